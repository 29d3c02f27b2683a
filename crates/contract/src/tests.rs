//! The checker on small hand-written models, one per protocol; the real models are exercised
//! by the workspace's contract test.

use bytes::Bytes;
use serde_json::json;

use crate::{Contract, ServiceModel, Violation};

fn signed(service: &str) -> String {
    format!("AWS4-HMAC-SHA256 Credential=K/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=x")
}

fn request(
    method: &str,
    uri: &str,
    service: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> http::Request<Bytes> {
    let mut builder = http::Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", signed(service));
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    builder
        .body(Bytes::from(body.to_string()))
        .expect("a valid request")
}

fn iam() -> ServiceModel {
    ServiceModel::from_json(
        "iam",
        json!({
            "operations": {
                "TagRole": {"input": {"shape": "TagRoleRequest"}},
                "PutRolePolicy": {"input": {"shape": "PutRolePolicyRequest"}},
                "CreatePolicy": {"input": {"shape": "CreatePolicyRequest"}}
            },
            "shapes": {
                "TagRoleRequest": {"type": "structure", "required": ["RoleName", "Tags"],
                    "members": {"RoleName": {"shape": "name"}, "Tags": {"shape": "tags"}}},
                "tags": {"type": "list", "member": {"shape": "Tag"}, "max": 2},
                "Tag": {"type": "structure", "required": ["Key", "Value"],
                    "members": {"Key": {"shape": "tagKey"}, "Value": {"shape": "tagValue"}}},
                "tagKey": {"type": "string", "min": 1, "max": 128, "pattern": "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+"},
                "tagValue": {"type": "string", "max": 256},
                "name": {"type": "string", "min": 1, "max": 64, "pattern": "[\\w+=,.@-]+"},
                "PutRolePolicyRequest": {"type": "structure", "required": ["RoleName", "PolicyName", "PolicyDocument"],
                    "members": {"RoleName": {"shape": "name"}, "PolicyName": {"shape": "name"}, "PolicyDocument": {"shape": "doc"}}},
                "CreatePolicyRequest": {"type": "structure", "required": ["PolicyName", "PolicyDocument"],
                    "members": {"PolicyName": {"shape": "name"}, "PolicyDocument": {"shape": "doc"}}},
                "doc": {"type": "string", "min": 1, "max": 131072}
            }
        }),
    )
}

fn violations(contract: &mut Contract, request: &http::Request<Bytes>) -> Vec<Violation> {
    match contract.check(request) {
        Ok(Some(checked)) => checked.violations,
        other => panic!("not checked: {other:?}"),
    }
}

#[test]
fn query_lists_decode_and_each_item_is_checked() {
    let mut contract = Contract::new([("iam", iam())]);
    let body = "Action=TagRole&Version=2010-05-08&RoleName=app&Tags.member.1.Key=bodyline%3Astack&Tags.member.1.Value=s&Tags.member.2.Key=bad%20key%21&Tags.member.2.Value=v&Tags.member.3.Key=k";
    let found = violations(&mut contract, &request("POST", "/", "iam", &[], body));
    let named: Vec<(&str, &str)> = found
        .iter()
        .map(|v| (v.member.as_str(), v.rule.as_str()))
        .collect();
    assert!(
        named
            .iter()
            .any(|(m, r)| *m == "Tags" && r.contains("<= 2")),
        "{found:#?}"
    );
    assert!(
        named
            .iter()
            .any(|(m, r)| *m == "Tags[1].Key" && r.contains("pattern")),
        "{found:#?}"
    );
    assert!(
        named
            .iter()
            .any(|(m, r)| *m == "Tags[2].Value" && r.contains("required")),
        "{found:#?}"
    );
    assert_eq!(found.len(), 3, "{found:#?}");
}

#[test]
fn patterns_match_whole_values_not_a_part() {
    let mut contract = Contract::new([("iam", iam())]);
    let ok = "Action=TagRole&RoleName=app-1&Tags.member.1.Key=k&Tags.member.1.Value=v";
    assert!(violations(&mut contract, &request("POST", "/", "iam", &[], ok)).is_empty());
    let spaced = "Action=TagRole&RoleName=my%20app&Tags.member.1.Key=k&Tags.member.1.Value=v";
    let found = violations(&mut contract, &request("POST", "/", "iam", &[], spaced));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].member, "RoleName");
    assert_eq!(found[0].value, "\"my app\"");
}

#[test]
fn iam_policy_sizes_count_without_white_space_and_inline_policies_add_up() {
    let mut contract = Contract::new([("iam", iam())]);
    let document = |chars: usize| format!("{{\"a\": \"{}\"}}", "x".repeat(chars - 8));
    let form = |pairs: &[(&str, &str)]| {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    };
    // 6,144 characters without the space is exactly the limit.
    let at_limit = document(6_144);
    assert_eq!(crate::policy_size(&at_limit), 6_144);
    let create = |doc: &str| {
        form(&[
            ("Action", "CreatePolicy"),
            ("PolicyName", "p"),
            ("PolicyDocument", doc),
        ])
    };
    assert!(violations(
        &mut contract,
        &request("POST", "/", "iam", &[], &create(&at_limit))
    )
    .is_empty());
    let over = violations(
        &mut contract,
        &request("POST", "/", "iam", &[], &create(&document(6_145))),
    );
    assert_eq!(over.len(), 1, "{over:#?}");
    assert_eq!(
        (over[0].operation.as_str(), over[0].member.as_str()),
        ("CreatePolicy", "PolicyDocument")
    );
    assert!(
        over[0].rule.contains("6144") && over[0].rule.contains("6145"),
        "{}",
        over[0]
    );

    let put = |name: &str, doc: &str| {
        form(&[
            ("Action", "PutRolePolicy"),
            ("RoleName", "r"),
            ("PolicyName", name),
            ("PolicyDocument", doc),
        ])
    };
    assert!(violations(
        &mut contract,
        &request("POST", "/", "iam", &[], &put("a", &document(6_000)))
    )
    .is_empty());
    // Putting the same policy again replaces it, it does not add.
    assert!(violations(
        &mut contract,
        &request("POST", "/", "iam", &[], &put("a", &document(6_000)))
    )
    .is_empty());
    let total = violations(
        &mut contract,
        &request("POST", "/", "iam", &[], &put("b", &document(4_241))),
    );
    assert_eq!(total.len(), 1, "{total:#?}");
    assert!(
        total[0].rule.contains("role r") && total[0].rule.contains("10241"),
        "{}",
        total[0]
    );
}

fn sagemaker() -> ServiceModel {
    ServiceModel::from_json(
        "sagemaker",
        json!({
            "operations": {"CreateEndpointConfig": {"input": {"shape": "In"}}},
            "shapes": {
                "In": {"type": "structure", "required": ["EndpointConfigName", "ProductionVariants"],
                    "members": {"EndpointConfigName": {"shape": "Name"}, "ProductionVariants": {"shape": "Variants"}}},
                "Name": {"type": "string", "max": 63, "min": 0, "pattern": "[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"},
                "Variants": {"type": "list", "member": {"shape": "Variant"}, "min": 1, "max": 10},
                "Variant": {"type": "structure", "members": {
                    "InitialInstanceCount": {"shape": "Count"}, "InstanceType": {"shape": "Type"}}},
                "Count": {"type": "integer", "min": 1},
                "Type": {"type": "string", "enum": ["ml.m5.large", "ml.c5.xlarge"]}
            }
        }),
    )
}

#[test]
fn json_requests_are_checked_by_target() {
    let mut contract = Contract::new([("sagemaker", sagemaker())]);
    let long = "e".repeat(64);
    let body = json!({
        "EndpointConfigName": long,
        "ProductionVariants": [{"InitialInstanceCount": 0, "InstanceType": "ml.m5.huge", "Colour": 1}]
    })
    .to_string();
    let target = [("x-amz-target", "SageMaker.CreateEndpointConfig")];
    let found = violations(
        &mut contract,
        &request("POST", "/", "sagemaker", &target, &body),
    );
    let members: Vec<&str> = found.iter().map(|v| v.member.as_str()).collect();
    assert_eq!(
        members,
        [
            "EndpointConfigName",
            "EndpointConfigName",
            "ProductionVariants[0].Colour",
            "ProductionVariants[0].InitialInstanceCount",
            "ProductionVariants[0].InstanceType"
        ],
        "{found:#?}"
    );
    assert!(found[0]
        .to_string()
        .contains("sagemaker CreateEndpointConfig: EndpointConfigName"));
    // The runtime's data plane is signed `sagemaker` too, and is not in this model.
    let runtime = request(
        "POST",
        "/endpoints/e/async-invocations",
        "sagemaker",
        &[],
        "{}",
    );
    assert!(contract.check(&runtime).expect("not an error").is_none());
}

fn s3() -> ServiceModel {
    ServiceModel::from_json(
        "s3",
        json!({
            "operations": {
                "PutObject": {"http": {"method": "PUT", "requestUri": "/{Bucket}/{Key+}"}, "input": {"shape": "PutObjectRequest"}},
                "CreateBucket": {"http": {"method": "PUT", "requestUri": "/{Bucket}"}, "input": {"shape": "CreateBucketRequest"}},
                "PutBucketTagging": {"http": {"method": "PUT", "requestUri": "/{Bucket}?tagging"}, "input": {"shape": "PutBucketTaggingRequest"}},
                "PutBucketLifecycleConfiguration": {"http": {"method": "PUT", "requestUri": "/{Bucket}?lifecycle"}, "input": {"shape": "PutLifecycle"}},
                "PutBucketLifecycle": {"http": {"method": "PUT", "requestUri": "/{Bucket}?lifecycle"}, "input": {"shape": "PutLifecycle"}, "deprecated": true},
                "UploadPart": {"http": {"method": "PUT", "requestUri": "/{Bucket}/{Key+}"}, "input": {"shape": "UploadPartRequest"}}
            },
            "shapes": {
                "BucketName": {"type": "string"},
                "Key": {"type": "string", "min": 1},
                "ACL": {"type": "string", "enum": ["private", "public-read"]},
                "Days": {"type": "integer", "min": 1},
                "PutObjectRequest": {"type": "structure", "required": ["Bucket", "Key"], "payload": "Body", "members": {
                    "Bucket": {"shape": "BucketName", "location": "uri", "locationName": "Bucket"},
                    "Key": {"shape": "Key", "location": "uri", "locationName": "Key"},
                    "ACL": {"shape": "ACL", "location": "header", "locationName": "x-amz-acl"},
                    "Body": {"shape": "Body"}}},
                "Body": {"type": "blob"},
                "UploadPartRequest": {"type": "structure", "required": ["Bucket", "Key", "UploadId"], "members": {
                    "Bucket": {"shape": "BucketName", "location": "uri", "locationName": "Bucket"},
                    "Key": {"shape": "Key", "location": "uri", "locationName": "Key"},
                    "UploadId": {"shape": "Key", "location": "querystring", "locationName": "uploadId"}}},
                "CreateBucketRequest": {"type": "structure", "required": ["Bucket"], "members": {
                    "Bucket": {"shape": "BucketName", "location": "uri", "locationName": "Bucket"}}},
                "PutBucketTaggingRequest": {"type": "structure", "required": ["Bucket", "Tagging"], "payload": "Tagging", "members": {
                    "Bucket": {"shape": "BucketName", "location": "uri", "locationName": "Bucket"},
                    "Tagging": {"shape": "Tagging", "locationName": "Tagging"}}},
                "Tagging": {"type": "structure", "required": ["TagSet"], "members": {"TagSet": {"shape": "TagSet"}}},
                "TagSet": {"type": "list", "member": {"shape": "Tag", "locationName": "Tag"}},
                "Tag": {"type": "structure", "required": ["Key", "Value"], "members": {"Key": {"shape": "TagKey"}, "Value": {"shape": "TagValue"}}},
                "TagKey": {"type": "string", "min": 1, "max": 128},
                "TagValue": {"type": "string", "max": 256},
                "PutLifecycle": {"type": "structure", "required": ["Bucket"], "payload": "LifecycleConfiguration", "members": {
                    "Bucket": {"shape": "BucketName", "location": "uri", "locationName": "Bucket"},
                    "LifecycleConfiguration": {"shape": "Lifecycle", "locationName": "LifecycleConfiguration"}}},
                "Lifecycle": {"type": "structure", "members": {"Rules": {"shape": "Rules", "locationName": "Rule"}}},
                "Rules": {"type": "list", "member": {"shape": "Rule"}, "flattened": true},
                "Rule": {"type": "structure", "members": {"Expiration": {"shape": "Expiration"}}},
                "Expiration": {"type": "structure", "members": {"Days": {"shape": "Days"}}}
            }
        }),
    )
}

#[test]
fn rest_xml_requests_decode_from_uri_headers_and_payload() {
    let mut contract = Contract::new([("s3", s3())]);
    let put = request(
        "PUT",
        "/b/in%20put/k.json?x-id=PutObject",
        "s3",
        &[("x-amz-acl", "public-write")],
        "bytes",
    );
    let checked = contract
        .check(&put)
        .expect("decoded")
        .expect("an s3 request");
    assert_eq!(
        checked.decoded.operation, "PutObject",
        "x-id names it; UploadPart lacks its uploadId"
    );
    assert_eq!(checked.decoded.params["Key"], "in put/k.json");
    assert_eq!(checked.violations.len(), 1, "{:#?}", checked.violations);
    assert_eq!(checked.violations[0].member, "ACL");

    let tagging = r#"<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag><Key>bodyline:stack</Key><Value>s</Value></Tag><Tag><Key></Key><Value>v</Value></Tag></TagSet></Tagging>"#;
    let checked = contract
        .check(&request("PUT", "/b?tagging", "s3", &[], tagging))
        .expect("decoded")
        .expect("an s3 request");
    assert_eq!(
        checked.decoded.operation, "PutBucketTagging",
        "the more specific template wins over CreateBucket"
    );
    let members: Vec<&str> = checked
        .violations
        .iter()
        .map(|v| v.member.as_str())
        .collect();
    assert_eq!(
        members,
        ["Tagging.TagSet[1].Key"],
        "{:#?}",
        checked.violations
    );

    let lifecycle = "<LifecycleConfiguration><Rule><Expiration><Days>7</Days></Expiration></Rule><Rule><Expiration><Days>0</Days></Expiration></Rule></LifecycleConfiguration>";
    let checked = contract
        .check(&request("PUT", "/b?lifecycle", "s3", &[], lifecycle))
        .expect("decoded")
        .expect("an s3 request");
    assert_eq!(
        checked.decoded.params["LifecycleConfiguration"]["Rules"][0]["Expiration"]["Days"],
        7
    );
    let members: Vec<&str> = checked
        .violations
        .iter()
        .map(|v| v.member.as_str())
        .collect();
    assert_eq!(
        members,
        ["LifecycleConfiguration.Rules[1].Expiration.Days"],
        "{:#?}",
        checked.violations
    );

    let unknown = request("DELETE", "/b", "s3", &[], "");
    assert!(
        contract.check(&unknown).is_err(),
        "an unmodelled request is an error, not a pass"
    );
}
