fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(api::http::WORKER_STACK_BYTES)
        .build()?
        .block_on(api::cli::run())
}
