fn main() -> anyhow::Result<()> {
    qii_server::main()
}
