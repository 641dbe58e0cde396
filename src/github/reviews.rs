//! Which reviews count as approvals right now.

use super::Review;

/// The people whose approval stands on `head_sha`, by GitHub's review
/// semantics made strict:
///
/// - each person's latest review that takes a position (`APPROVED`,
///   `CHANGES_REQUESTED` or `DISMISSED`) is theirs; a later plain comment
///   does not withdraw an approval, as on GitHub;
/// - a dismissed approval does not count (its state reads `DISMISSED`);
/// - an approval of an earlier commit does not count: a push after it makes
///   it stale, whether or not the repository dismisses stale reviews;
/// - the pull request's author never approves their own change.
///
/// Logins compare case-insensitively; each person appears once.
pub fn current_approvers(reviews: &[Review], author: &str, head_sha: &str) -> Vec<String> {
    let mut latest: Vec<&Review> = Vec::new();
    for review in reviews {
        let Some(user) = &review.user else { continue };
        if !matches!(
            review.state.as_str(),
            "APPROVED" | "CHANGES_REQUESTED" | "DISMISSED"
        ) {
            continue;
        }
        let same = |r: &&Review| {
            r.user
                .as_ref()
                .is_some_and(|u| u.login.eq_ignore_ascii_case(&user.login))
        };
        latest.retain(|r| !same(r));
        latest.push(review);
    }
    latest
        .into_iter()
        .filter(|r| r.state == "APPROVED")
        .filter(|r| r.commit_id.as_deref() == Some(head_sha))
        .filter_map(|r| r.user.as_ref().map(|u| u.login.clone()))
        .filter(|login| !login.eq_ignore_ascii_case(author))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::User;
    use super::*;

    fn review(id: u64, login: &str, state: &str, commit: &str) -> Review {
        Review {
            id,
            user: Some(User {
                login: login.to_owned(),
                kind: "User".to_owned(),
            }),
            state: state.to_owned(),
            commit_id: Some(commit.to_owned()),
        }
    }

    #[test]
    fn only_standing_approvals_of_the_head_by_others_count() {
        let reviews = [
            review(1, "alice", "APPROVED", "head"),
            review(2, "alice", "COMMENTED", "head"),
            review(3, "bob", "APPROVED", "head"),
            review(4, "bob", "CHANGES_REQUESTED", "head"),
            review(5, "carol", "APPROVED", "old"),
            review(6, "dave", "DISMISSED", "head"),
            review(7, "Author", "APPROVED", "head"),
            review(8, "erin", "CHANGES_REQUESTED", "head"),
            review(9, "ERIN", "APPROVED", "head"),
            review(10, "frank", "PENDING", "head"),
            Review {
                id: 11,
                user: None,
                state: "APPROVED".into(),
                commit_id: Some("head".into()),
            },
        ];
        assert_eq!(
            current_approvers(&reviews, "author", "head"),
            ["alice", "ERIN"]
        );
    }
}
