use super::exit::Outcome;
use super::output::emit;
use crate::ci;

#[derive(Debug, clap::Args)]
#[command(arg_required_else_help = true)]
pub struct Args {
    /// A rule code (`WPC006`) or name (`wildcard-allow`).
    code: Option<String>,
    /// List every rule with its default level and summary.
    #[arg(long, conflicts_with = "code")]
    list: bool,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    emit(match args.list {
        true => ci::rule_list(),
        false => ci::rule_doc(&args.code.unwrap_or_default())?,
    })
}
