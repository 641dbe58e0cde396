use super::output::{Outcome, print};
use crate::{lint, openclaw};

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
    if args.list {
        let mut out = String::new();
        for meta in lint::REGISTRY.all().chain(openclaw::REGISTRY.all()) {
            out.push_str(&format!(
                "{:<8} {:<30} {:<8} {}\n",
                meta.code,
                meta.name,
                meta.default_severity.as_str(),
                meta.summary
            ));
        }
        print(&out)?;
        return Ok(Outcome::Clean);
    }
    let code = args.code.unwrap_or_default();
    let Some(meta) = lint::REGISTRY
        .find(&code)
        .or_else(|| openclaw::REGISTRY.find(&code))
    else {
        anyhow::bail!("no rule `{code}` (see `wpc rule --list`)");
    };
    print(meta.doc)?;
    Ok(Outcome::Clean)
}
