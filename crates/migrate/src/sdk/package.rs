//! The SDK the rewrite needs: its package, the crate name it goes by unless renamed, and the
//! first version whose `InvokeEndpointAsync` takes `body`.

/// The package that defines `InvokeEndpointAsync`.
pub const SDK_PACKAGE: &str = "aws-sdk-sagemakerruntime";

/// The first `aws-sdk-sagemakerruntime` whose `InvokeEndpointAsync` takes `body`.
pub const BODY_SINCE: &str = "1.123.0";

/// The crate name the rewrite uses when a package does not rename the SDK.
pub(crate) const DEFAULT_CRATE: &str = "aws_sdk_sagemakerruntime";

pub(super) fn body_since() -> semver::Version {
    semver::Version::new(1, 123, 0)
}
