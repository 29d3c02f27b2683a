//! Raising a version requirement: the new requirement keeps the user's operator and precision,
//! and the manifest edit replaces only the requirement's string literal.

use semver::{Op, Version, VersionReq};

/// The lowest version `requirement` admits (the highest lower bound of its comparators); None
/// when it does not parse as a cargo requirement.
pub(crate) fn lower_bound(requirement: &str) -> Option<Version> {
    let req = VersionReq::parse(requirement).ok()?;
    let mut low = Version::new(0, 0, 0);
    for c in &req.comparators {
        let mut v = Version::new(c.major, c.minor.unwrap_or(0), c.patch.unwrap_or(0));
        v.pre = c.pre.clone();
        match c.op {
            Op::Less | Op::LessEq => continue,
            // `>1.122.0` admits 1.122.1, which is below any x.y.0 above it.
            Op::Greater => v.patch += 1,
            _ => {}
        }
        if v > low {
            low = v;
        }
    }
    Some(low)
}

/// `requirement` raised to `minimum`: the same operator and number of version parts for a
/// single comparator (`1.100` → `1.123`, `=1.100.0` → `=1.123.0`, `~1.100` → `~1.123`), else
/// the plain `minimum`.
pub(crate) fn raised(requirement: &str, minimum: &Version) -> String {
    let trimmed = requirement.trim();
    let op_len = trimmed
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (op, version) = trimmed.split_at(op_len);
    let op = op.trim();
    let parts: Vec<&str> = version.split('.').collect();
    let simple = matches!(op, "" | "^" | "~" | "=" | ">=")
        && (1..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if !simple {
        return minimum.to_string();
    }
    let number = if parts.len() == 3 {
        minimum.to_string()
    } else {
        format!("{}.{}", minimum.major, minimum.minor)
    };
    format!("{op}{number}")
}

/// The TOML string literal for `value`, quoted like `original` (a literal or basic string).
pub(crate) fn literal_like(original: &str, value: &str) -> String {
    if original.starts_with('\'') {
        format!("'{value}'")
    } else {
        format!("\"{value}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> Version {
        Version::new(1, 123, 0)
    }

    #[test]
    fn lower_bounds_follow_cargo_operators() {
        let low = |r: &str| lower_bound(r).unwrap().to_string();
        assert_eq!(low("1.100"), "1.100.0");
        assert_eq!(low("=1.122.0"), "1.122.0");
        assert_eq!(low(">=1.90, <1.130"), "1.90.0");
        assert_eq!(low(">1.122.0"), "1.122.1");
        assert_eq!(low("1"), "1.0.0");
        assert_eq!(low("*"), "0.0.0");
        assert!(lower_bound("not a version").is_none());
    }

    #[test]
    fn raising_keeps_operator_and_precision() {
        assert_eq!(raised("1.100", &body()), "1.123");
        assert_eq!(raised("1.100.2", &body()), "1.123.0");
        assert_eq!(raised("=1.122.0", &body()), "=1.123.0");
        assert_eq!(raised("~1.100", &body()), "~1.123");
        assert_eq!(raised("^1.122.0", &body()), "^1.123.0");
        assert_eq!(raised("1", &body()), "1.123");
        assert_eq!(raised(">=1.90, <1.130", &body()), "1.123.0");
        assert_eq!(raised("1.100.*", &body()), "1.123.0");
    }

    #[test]
    fn literals_keep_their_quotes() {
        assert_eq!(literal_like("'1.100'", "1.123"), "'1.123'");
        assert_eq!(literal_like("\"1.100\"", "1.123"), "\"1.123\"");
    }
}
