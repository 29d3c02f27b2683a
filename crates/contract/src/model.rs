//! AWS service models as botocore ships them: `botocore/data/<service>/<version>/service-2.json`
//! (gzipped since botocore 1.32). A model is kept as JSON and read through small accessors.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::ContractError;

/// The services bodyline calls, as `(SigV4 signing name, botocore directory)`.
pub const SERVICES: &[(&str, &str)] = &[
    ("s3", "s3"),
    ("iam", "iam"),
    ("sagemaker", "sagemaker"),
    ("sns", "sns"),
    ("sts", "sts"),
    ("monitoring", "cloudwatch"),
    ("application-autoscaling", "application-autoscaling"),
];

/// One service's model: its operations and shapes.
#[derive(Debug, Clone)]
pub struct ServiceModel {
    /// The botocore directory name, e.g. `cloudwatch`.
    pub service: String,
    json: Value,
}

impl ServiceModel {
    /// A model from its JSON text (tests use small hand-written ones).
    pub fn from_json(service: &str, json: Value) -> ServiceModel {
        ServiceModel {
            service: service.to_string(),
            json,
        }
    }

    /// Loads `<data>/<service>/<newest version>/service-2.json[.gz]`.
    pub fn load(data: &Path, service: &str) -> Result<ServiceModel, ContractError> {
        let dir = data.join(service);
        let io = |path: &Path, e: std::io::Error| ContractError::Io {
            path: path.to_path_buf(),
            source: e,
        };
        let mut versions: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| io(&dir, e))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect();
        versions.sort();
        let version = versions
            .pop()
            .ok_or_else(|| ContractError::NoModel { path: dir.clone() })?;
        let plain = version.join("service-2.json");
        let gzipped = version.join("service-2.json.gz");
        let text = if plain.is_file() {
            std::fs::read_to_string(&plain).map_err(|e| io(&plain, e))?
        } else {
            let file = std::fs::File::open(&gzipped).map_err(|e| io(&gzipped, e))?;
            let mut text = String::new();
            flate2::read::GzDecoder::new(file)
                .read_to_string(&mut text)
                .map_err(|e| io(&gzipped, e))?;
            text
        };
        let json = serde_json::from_str(&text).map_err(|e| ContractError::BadModel {
            path: version.clone(),
            message: e.to_string(),
        })?;
        Ok(ServiceModel::from_json(service, json))
    }

    /// An operation by name: `{"http": {...}, "input": {"shape": ...}}`.
    pub(crate) fn operation(&self, name: &str) -> Option<&Value> {
        self.json["operations"].get(name)
    }

    /// Every operation, by name.
    pub(crate) fn operations(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.json["operations"]
            .as_object()
            .into_iter()
            .flat_map(|ops| ops.iter())
    }

    /// A shape by name.
    pub(crate) fn shape(&self, name: &str) -> Option<&Value> {
        self.json["shapes"].get(name)
    }

    /// The input shape's name of an operation, if it takes input.
    pub(crate) fn input_shape(&self, operation: &str) -> Option<&str> {
        self.operation(operation)?["input"]["shape"].as_str()
    }
}

/// `<venv>/lib/python3.*/site-packages/botocore/data`: where pip put botocore's models.
pub fn botocore_data_dir(venv: &Path) -> Result<PathBuf, ContractError> {
    let lib = venv.join("lib");
    let entries = std::fs::read_dir(&lib).map_err(|e| ContractError::Io {
        path: lib.clone(),
        source: e,
    })?;
    entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .map(|p| p.join("site-packages").join("botocore").join("data"))
        .find(|p| p.is_dir())
        .ok_or(ContractError::NoModel {
            path: lib.join("python3.*/site-packages/botocore/data"),
        })
}

/// A member's shape name (`{"shape": "X", ...}`).
pub(crate) fn shape_of(member: &Value) -> &str {
    member["shape"].as_str().unwrap_or_default()
}

/// The name a member or list element goes by on the wire, else `default`.
pub(crate) fn wire_name<'a>(member: &'a Value, default: &'a str) -> &'a str {
    member["locationName"].as_str().unwrap_or(default)
}
