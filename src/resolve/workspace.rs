//! The policy repository read once for a command: `wpc.toml`, the policies
//! folder (policies and their tests, in one walk), every policy loaded, and
//! the release branch verified. The stages of `wpc ci` all take this value,
//! so no stage walks the folder, parses a policy or verifies the branch
//! again.

use super::{PolicySource, ResolveError};
use crate::config::Config;
use crate::git::Repo;
use crate::lint::{self, CheckError};
use crate::policy::Policy;
use crate::policy::files::{self, Collected};
use crate::release::{self, Freshness, ReleaseError, VerifiedRelease};
use crate::report::{Finding, Report};

/// A repository's working policies and release branch, read.
pub struct Workspace<'a> {
    pub config: &'a Config,
    /// What loading `config` found.
    config_findings: Vec<Finding>,
    /// The policy and test files of the policies folder.
    files: Collected,
    /// The policies of `files` that loaded, in their order.
    policies: Vec<Policy>,
    /// Why the others did not load.
    load_findings: Vec<Finding>,
    /// The release branch, verified; `Ok(None)` when there is none or it
    /// was not asked for.
    release: Result<Option<(Repo, VerifiedRelease)>, ReleaseError>,
}

impl<'a> Workspace<'a> {
    /// Read the repository of `config` (with `config_findings`, what loading
    /// it found); the release branch only when `read_release` (then with
    /// the default freshness). A release branch that does not verify is not
    /// an error here: each stage decides what an untrusted branch means to
    /// it.
    pub fn load(
        config: &'a Config,
        config_findings: Vec<Finding>,
        read_release: bool,
    ) -> Result<Workspace<'a>, CheckError> {
        let files = files::collect_dir_with_tests(&config.policies_dir(), &config.root)?;
        let (policies, load_findings) = Policy::load_all(&files.policies);
        let release = match read_release {
            true => release::read_verified(config, &Freshness::default()),
            false => Ok(None),
        };
        Ok(Workspace {
            config,
            config_findings,
            files,
            policies,
            load_findings,
            release,
        })
    }

    /// `wpc check` of the whole repository, with the release branch's
    /// revocations.
    pub fn check(&mut self) -> Report {
        let revocations = release::revocations_in(
            self.config,
            self.release
                .as_ref()
                .map(|read| read.as_ref().map(|(_, state)| state)),
        );
        let mut findings = std::mem::take(&mut self.files.policy_problems);
        findings.append(&mut self.config_findings);
        findings.append(&mut self.load_findings);
        lint::check_repository(
            self.config,
            findings,
            &self.files.policies,
            &self.policies,
            revocations,
        )
    }

    /// Every policy test of the folder, testing the policies as loaded.
    pub fn test(&mut self) -> crate::decide::suite::TestRun {
        crate::decide::suite::run_collected(
            &self.files.tests,
            std::mem::take(&mut self.files.test_problems),
            &self.policies,
        )
    }

    /// Where a proof bundle's policy is looked up: the verified release
    /// branch, else the working policies. An error is a release branch that
    /// does not verify.
    pub fn into_policy_source(self) -> Result<PolicySource, ResolveError> {
        Ok(match self.release? {
            Some((repo, state)) => PolicySource::released(repo, state),
            None => PolicySource::working(self.config, &self.policies),
        })
    }
}
