use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    rsp_cli::main_with_args(rsp_cli::Cli::parse())
}
