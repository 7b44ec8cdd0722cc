fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(qii_server::http::WORKER_STACK_BYTES)
        .build()?
        .block_on(qii_server::cli::run())
}
