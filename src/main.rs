//! scopecraft-tmux: run AI coding agents on the tasks of a Scopecraft project.

fn main() -> std::process::ExitCode {
    scopecraft_tmux::main()
}
