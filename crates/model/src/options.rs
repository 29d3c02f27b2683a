//! The model server's options, read from the environment like a SageMaker container's.

use std::net::{Ipv4Addr, SocketAddr};

/// How the model server runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeOptions {
    /// Where to listen: `127.0.0.1:<SAGEMAKER_BIND_TO_PORT>` (port 8080 when unset, as SageMaker).
    pub addr: SocketAddr,
    /// `BODYLINE_MODEL_FAULTS=1`: honour the fault fields of a record (`fail`, `sleep_ms`, `exit`).
    /// Off by default, so a real payload that happens to carry such a field is just scored.
    pub faults: bool,
    /// `BODYLINE_MODEL_EXIT_WITH_PARENT=1`: exit when the process that started the server is gone,
    /// so a runtime killed with SIGKILL leaves no model process behind.
    pub exit_with_parent: bool,
    /// `BODYLINE_MODEL_EXIT_WITH_PID=<pid>`: exit when that process is gone. The local stack
    /// names its supervisor here, so a server outlives the runtime that started it (a restarted
    /// runtime takes it over) but not the stack.
    pub exit_with_pid: Option<u32>,
}

/// Why the environment does not describe a usable server.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServeOptionsError {
    /// A variable has a value that cannot be used.
    #[error("environment variable {name}={value:?} is invalid: {rule}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What it must be.
        rule: &'static str,
    },
}

impl ServeOptions {
    /// The port SageMaker's containers listen on when not told otherwise.
    pub const DEFAULT_PORT: u16 = 8080;

    /// Reads the options from the process environment.
    pub fn from_env() -> Result<ServeOptions, ServeOptionsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the options from any variable lookup (the environment, or a map in tests).
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<ServeOptions, ServeOptionsError> {
        let port = match get("SAGEMAKER_BIND_TO_PORT") {
            None => Self::DEFAULT_PORT,
            Some(value) => value
                .trim()
                .parse::<u16>()
                .map_err(|_| ServeOptionsError::Invalid {
                    name: "SAGEMAKER_BIND_TO_PORT",
                    value,
                    rule: "a TCP port number from 0 to 65535",
                })?,
        };
        Ok(ServeOptions {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            faults: flag(&get, "BODYLINE_MODEL_FAULTS")?,
            exit_with_parent: flag(&get, "BODYLINE_MODEL_EXIT_WITH_PARENT")?,
            exit_with_pid: match get("BODYLINE_MODEL_EXIT_WITH_PID") {
                None => None,
                Some(value) => {
                    Some(
                        value
                            .trim()
                            .parse::<u32>()
                            .map_err(|_| ServeOptionsError::Invalid {
                                name: "BODYLINE_MODEL_EXIT_WITH_PID",
                                value,
                                rule: "a process id",
                            })?,
                    )
                }
            },
        })
    }
}

fn flag(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<bool, ServeOptionsError> {
    match get(name).as_deref().map(str::trim) {
        None | Some("") | Some("0") | Some("false") => Ok(false),
        Some("1") | Some("true") => Ok(true),
        Some(other) => Err(ServeOptionsError::Invalid {
            name,
            value: other.to_string(),
            rule: "1/true or 0/false",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_sagemaker() {
        let options = ServeOptions::from_lookup(|_| None).unwrap();
        assert_eq!(options.addr.port(), 8080);
        assert!(!options.faults);
    }

    #[test]
    fn port_and_flags_are_read() {
        let options = ServeOptions::from_lookup(|name| match name {
            "SAGEMAKER_BIND_TO_PORT" => Some("9123".into()),
            "BODYLINE_MODEL_FAULTS" => Some("1".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(options.addr.port(), 9123);
        assert!(options.faults);
    }

    #[test]
    fn the_process_to_exit_with_is_read_and_checked() {
        let options = ServeOptions::from_lookup(|name| {
            (name == "BODYLINE_MODEL_EXIT_WITH_PID").then(|| "42".into())
        })
        .unwrap();
        assert_eq!(options.exit_with_pid, Some(42));
        let err = ServeOptions::from_lookup(|name| {
            (name == "BODYLINE_MODEL_EXIT_WITH_PID").then(|| "me".into())
        })
        .unwrap_err();
        assert!(
            err.to_string().contains("BODYLINE_MODEL_EXIT_WITH_PID"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_port_is_named() {
        let err = ServeOptions::from_lookup(|name| {
            (name == "SAGEMAKER_BIND_TO_PORT").then(|| "x".into())
        })
        .unwrap_err();
        assert!(err.to_string().contains("SAGEMAKER_BIND_TO_PORT"), "{err}");
    }
}
