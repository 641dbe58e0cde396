//! Where the two versions of a bundle's policy come from: for `wpc replay`,
//! the WPC the bundle claims and the working policy of the same name (or a
//! given one); for `wpc diff --replay`, the policy of that name at the two
//! revisions.

use std::collections::HashMap;

use super::{Pair, ReplayError, Unresolved, Version};
use crate::bundle::policy::Lookup;
use crate::config::Config;
use crate::git::{Oid, Repo};
use crate::policy::files;
use crate::policy::{Policy, Wpc};
use crate::release::Freshness;
use crate::resolve::PolicySource;
use crate::revision::policies_at;

fn version(wpc: Option<&Wpc>, what: &str) -> Result<Option<Version>, Unresolved> {
    wpc.map(|wpc| {
        Version::new(wpc).map_err(|e| Unresolved(format!("{what} does not compile: {e}")))
    })
    .transpose()
}

/// The claimed WPC (the release branch's, else a working policy's with that
/// hash) is the base; `head`, else the working policy of the same name, is
/// the head.
pub struct Working {
    source: PolicySource,
    working: HashMap<String, Wpc>,
    head: Option<Wpc>,
}

impl Working {
    pub fn new(
        config: &Config,
        freshness: &Freshness,
        head: Option<Wpc>,
    ) -> Result<Working, ReplayError> {
        let source = PolicySource::for_config(config, freshness)
            .map_err(|e| ReplayError::Policies(e.to_string()))?;
        let dir = config.policies_dir();
        let (paths, _) = files::collect_dir(&dir, &config.root)
            .map_err(|e| ReplayError::Policies(format!("{}: {e}", dir.display())))?;
        // A policy that does not load is `wpc check`'s finding: it has no
        // version to replay under, so its runs are reported as unresolved.
        let working = paths
            .iter()
            .filter_map(|path| Policy::load(path).ok())
            .map(|policy| (policy.wpc.policy_name.clone(), policy.wpc))
            .collect();
        Ok(Working {
            source,
            working,
            head,
        })
    }

    pub fn resolve(&self, hash: &str) -> Result<Pair, Unresolved> {
        let base = match self
            .source
            .find(hash)
            .map_err(|e| Unresolved(e.to_string()))?
        {
            Lookup::Found(check) => check.wpc,
            Lookup::Unknown(why) => return Err(Unresolved(why)),
        };
        let name = base.policy_name.clone();
        let head = self.head.as_ref().or_else(|| self.working.get(&name));
        Ok(Pair {
            base: version(Some(&base), &format!("policy `{name}` as claimed"))?,
            head: version(head, &format!("policy `{name}` in the working tree"))?,
            policy: name,
        })
    }
}

/// The policy a bundle claims, by name, at two revisions. The claimed hash
/// is looked up among the policies at either revision, then in `fallback`
/// (the release branch), so runs under any released version are replayed.
pub struct Revisions {
    base: HashMap<String, Wpc>,
    head: HashMap<String, Wpc>,
    names: HashMap<String, String>,
    fallback: Option<PolicySource>,
}

impl Revisions {
    pub fn new(
        repo: &Repo,
        base: Oid,
        head: Oid,
        root: &str,
        fallback: Option<PolicySource>,
    ) -> Result<Revisions, ReplayError> {
        let mut names = HashMap::new();
        let mut side = |commit| -> Result<HashMap<String, Wpc>, ReplayError> {
            let (_, policies, _) = policies_at(repo, commit, root)
                .map_err(|e| ReplayError::Policies(e.to_string()))?;
            Ok(policies
                .into_iter()
                .map(|policy| {
                    names.insert(policy.hash, policy.wpc.policy_name.clone());
                    (policy.wpc.policy_name.clone(), policy.wpc)
                })
                .collect())
        };
        let base = side(base)?;
        let head = side(head)?;
        Ok(Revisions {
            base,
            head,
            names,
            fallback,
        })
    }

    pub fn resolve(&self, hash: &str) -> Result<Pair, Unresolved> {
        let name = match (self.names.get(hash), &self.fallback) {
            (Some(name), _) => name.clone(),
            (None, Some(source)) => {
                match source.find(hash).map_err(|e| Unresolved(e.to_string()))? {
                    Lookup::Found(check) => check.wpc.policy_name,
                    Lookup::Unknown(why) => return Err(Unresolved(why)),
                }
            }
            (None, None) => {
                return Err(Unresolved(format!(
                    "no policy at either revision has the hash `{hash}`"
                )));
            }
        };
        Ok(Pair {
            base: version(self.base.get(&name), &format!("policy `{name}` at base"))?,
            head: version(self.head.get(&name), &format!("policy `{name}` at head"))?,
            policy: name,
        })
    }
}
