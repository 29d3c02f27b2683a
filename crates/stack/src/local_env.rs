//! `.bodyline/local.env`: how any AWS SDK reaches the local stack with only standard variables.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::StackError;

/// The connection facts of a running local stack, as written to `.bodyline/local.env`.
///
/// The file is a plain `KEY=value` list of the standard AWS variables, so a user's own
/// application reaches the local stack with `set -a; . .bodyline/local.env` and nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalEnv {
    /// `AWS_ENDPOINT_URL`: the front door, `http://127.0.0.1:<port>`.
    pub endpoint_url: String,
    /// `AWS_ACCESS_KEY_ID` of the administrator identity the bootstrap created in moto's IAM.
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY` that goes with [`LocalEnv::access_key_id`].
    pub secret_access_key: String,
    /// `AWS_REGION` (also written as `AWS_DEFAULT_REGION` for older tools).
    pub region: String,
    /// Any other variables the local stack wants to publish (e.g. `BODYLINE_MOTO_URL`).
    pub extra: BTreeMap<String, String>,
}

impl LocalEnv {
    /// The file name under the project's `.bodyline/` directory.
    pub const FILE_NAME: &'static str = "local.env";

    /// `<root>/.bodyline/local.env`.
    pub fn path(root: &Path) -> PathBuf {
        crate::ProjectDir::new(root).file(Self::FILE_NAME)
    }

    /// Renders the file contents.
    pub fn render(&self) -> String {
        let mut out = String::from(
            "# Written by `bodyline local up`. Load with: set -a; . .bodyline/local.env; set +a\n",
        );
        let mut line = |k: &str, v: &str| {
            let _ = writeln!(out, "{k}={v}");
        };
        line("AWS_ENDPOINT_URL", &self.endpoint_url);
        line("AWS_ACCESS_KEY_ID", &self.access_key_id);
        line("AWS_SECRET_ACCESS_KEY", &self.secret_access_key);
        line("AWS_REGION", &self.region);
        line("AWS_DEFAULT_REGION", &self.region);
        for (k, v) in &self.extra {
            line(k, v);
        }
        out
    }

    /// Parses the file contents; `path` is only used in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<LocalEnv, StackError> {
        let mut vars = BTreeMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((k, v)) = line.split_once('=') else {
                return Err(StackError::LocalEnv {
                    path: path.to_path_buf(),
                    message: format!("line {} is not KEY=value: {raw:?}", i + 1),
                });
            };
            vars.insert(k.trim().to_string(), v.trim().to_string());
        }
        let mut take = |k: &str| {
            vars.remove(k).ok_or_else(|| StackError::LocalEnv {
                path: path.to_path_buf(),
                message: format!("{k} is missing; run `bodyline local up` to write the file again"),
            })
        };
        let endpoint_url = take("AWS_ENDPOINT_URL")?;
        let access_key_id = take("AWS_ACCESS_KEY_ID")?;
        let secret_access_key = take("AWS_SECRET_ACCESS_KEY")?;
        let region = take("AWS_REGION")?;
        vars.remove("AWS_DEFAULT_REGION");
        Ok(LocalEnv {
            endpoint_url,
            access_key_id,
            secret_access_key,
            region,
            extra: vars,
        })
    }

    /// Reads `<root>/.bodyline/local.env`.
    pub fn read(root: &Path) -> Result<LocalEnv, StackError> {
        let path = Self::path(root);
        let text = std::fs::read_to_string(&path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => StackError::LocalStackNotRunning { path: path.clone() },
            _ => StackError::Io {
                path: path.clone(),
                source,
            },
        })?;
        Self::parse(&text, &path)
    }

    /// Writes `<root>/.bodyline/local.env` (creating `.bodyline/`), replacing it atomically.
    pub fn write(&self, root: &Path) -> Result<PathBuf, StackError> {
        let path = Self::path(root);
        crate::fsutil::write_atomic(&path, self.render().as_bytes())?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_file_format() {
        let env = LocalEnv {
            endpoint_url: "http://127.0.0.1:4566".into(),
            access_key_id: "AKIAEXAMPLE".into(),
            secret_access_key: "secret".into(),
            region: "eu-west-1".into(),
            extra: BTreeMap::from([("BODYLINE_MOTO_URL".into(), "http://127.0.0.1:5000".into())]),
        };
        let parsed = LocalEnv::parse(&env.render(), Path::new("local.env")).unwrap();
        assert_eq!(parsed, env);
    }

    #[test]
    fn a_missing_variable_is_named() {
        let err = LocalEnv::parse("AWS_REGION=us-east-1\n", Path::new("x.env")).unwrap_err();
        assert!(err.to_string().contains("AWS_ENDPOINT_URL"), "{err}");
    }
}
