//! Sweep: find every stack by its `bodyline:stack` tag, keep those named with a prefix whose
//! resources are all older than a threshold, and tear each down with the ordinary teardown.
//!
//! The sweep adds no way of deleting: each chosen stack gets [`plan_teardown`] and [`execute`]
//! (ordered, owned-only, with the leak check), under the name the tag gives. Afterwards every
//! service is listed again, and a swept stack that still has a tagged resource anywhere fails.
//! A stack's age is its youngest resource's: one resource newer than the threshold (a run in
//! flight) keeps the whole stack.

use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use bodyline_stack::{Stack, Target};
use serde::Serialize;

use super::inventory::{inventory, TaggedResource};
use super::{execute, plan_teardown, TeardownReport};
use crate::owned::deleting::TeardownOptions;
use crate::owned::error::TeardownError;
use bodyline_aws::Clients;

/// What to sweep.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// Only stacks whose name starts with this (e.g. `ci-`).
    pub prefix: String,
    /// Only stacks whose every resource is at least this old.
    pub older_than: Duration,
    /// The clock the ages are measured against (the time of the run).
    pub now: SystemTime,
}

/// What the sweep decided for one stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "verdict", content = "reason")]
pub enum SweepDecision {
    /// Old enough and named with the prefix: it is torn down.
    Remove,
    /// Left alone, for the reason given.
    Keep(String),
}

/// One stack found by its tag.
#[derive(Debug, Clone, Serialize)]
pub struct SweepStack {
    /// The stack name (the `bodyline:stack` tag's value).
    pub stack: String,
    /// Its age in whole seconds: the youngest resource's; `None` when no resource is dated.
    pub age_secs: Option<u64>,
    /// How many tagged resources it has in the account and region.
    pub resources: usize,
    /// Resources with no creation time (neither AWS's nor a `bodyline:created` tag).
    pub undated: usize,
    /// The decision.
    #[serde(flatten)]
    pub verdict: SweepDecision,
}

/// Every stack found, and what the sweep will do with each.
#[derive(Debug, Clone, Serialize)]
pub struct SweepPlan {
    /// The target.
    pub target: Target,
    /// The account.
    pub account: String,
    /// The region.
    pub region: String,
    /// The name prefix.
    pub prefix: String,
    /// The age threshold, in seconds.
    pub older_than_secs: u64,
    /// Every stack, by name.
    pub stacks: Vec<SweepStack>,
}

/// How one chosen stack's teardown ended.
#[derive(Debug, Serialize)]
pub struct SweptStack {
    /// The stack name.
    pub stack: String,
    /// Whether it is gone: teardown clean and nothing tagged with its name left anywhere.
    pub removed: bool,
    /// Why not, when it is not.
    pub error: Option<String>,
    /// Resources still tagged with its name after the run, in any service.
    pub leaks: Vec<TaggedResource>,
    /// The teardown's own report (absent if it could not be planned).
    pub teardown: Option<TeardownReport>,
}

/// The result of [`execute_sweep`].
#[derive(Debug, Serialize)]
pub struct SweepReport {
    /// One entry per stack the plan chose, in name order.
    pub swept: Vec<SweptStack>,
    /// The second listing failed, so no leak could be ruled out.
    pub recheck_error: Option<String>,
}

impl SweepPlan {
    /// The stacks to tear down.
    pub fn chosen(&self) -> impl Iterator<Item = &SweepStack> {
        self.stacks
            .iter()
            .filter(|s| s.verdict == SweepDecision::Remove)
    }

    /// A table: every stack, its age, its resource count and the decision.
    pub fn render_text(&self, dry_run: bool) -> String {
        let mut out = format!(
            "sweep on the {} target (account {}, {}): stacks named {:?}* with every resource older than {}; {} stack(s) tagged bodyline:stack\n",
            self.target,
            self.account,
            self.region,
            self.prefix,
            render_age(self.older_than_secs),
            self.stacks.len()
        );
        let width = self.stacks.iter().map(|s| s.stack.len()).max().unwrap_or(5);
        out.push_str(&format!(
            "  {:<width$}  {:>8}  {:>9}  decision\n",
            "stack", "age", "resources"
        ));
        for s in &self.stacks {
            let age = s.age_secs.map_or("unknown".into(), render_age);
            let decision = match &s.verdict {
                SweepDecision::Remove if dry_run => "would remove".to_string(),
                SweepDecision::Remove => "remove".to_string(),
                SweepDecision::Keep(why) => format!("keep: {why}"),
            };
            out.push_str(&format!(
                "  {:<width$}  {age:>8}  {:>9}  {decision}\n",
                s.stack, s.resources
            ));
        }
        out
    }
}

impl SweepReport {
    /// Every chosen stack is gone.
    pub fn is_clean(&self) -> bool {
        self.recheck_error.is_none() && self.swept.iter().all(|s| s.removed)
    }

    /// One block per swept stack (its teardown report), then the outcome of each.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        for s in &self.swept {
            out.push_str(&format!("\n== {}\n", s.stack));
            if let Some(t) = &s.teardown {
                out.push_str(&t.render_text());
            }
            for leak in &s.leaks {
                out.push_str(&format!(
                    "  still tagged: {:<16} {}\n",
                    leak.kind.label(),
                    leak.name
                ));
            }
        }
        out.push('\n');
        for s in &self.swept {
            match &s.error {
                None => out.push_str(&format!("removed  {}\n", s.stack)),
                Some(e) => out.push_str(&format!("FAILED   {}: {e}\n", s.stack)),
            }
        }
        if let Some(e) = &self.recheck_error {
            out.push_str(&format!("FAILED   the listing after the sweep: {e}\n"));
        }
        let failed = self.swept.iter().filter(|s| !s.removed).count();
        out.push_str(&format!(
            "sweep: {} removed, {failed} failed\n",
            self.swept.len() - failed
        ));
        out
    }
}

/// `90` → `1m30s`, `7200` → `2h`.
fn render_age(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    for (n, unit) in [(d, "d"), (h, "h"), (m, "m"), (s, "s")] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

/// Lists every stack on the target `config` reaches (read calls only) and decides for each.
/// `base` gives the target and region; its name is not used.
pub async fn plan_sweep(
    base: &Stack,
    config: &SdkConfig,
    options: &SweepOptions,
) -> Result<SweepPlan, TeardownError> {
    let clients = Clients::new(config);
    let account = super::account(&clients, base.target).await?;
    let found = inventory(&clients, &base.region).await?;
    let stacks = found
        .into_iter()
        .map(|(stack, tagged)| judge(stack, tagged, &base.region, options))
        .collect();
    Ok(SweepPlan {
        target: base.target,
        account,
        region: base.region.clone(),
        prefix: options.prefix.clone(),
        older_than_secs: options.older_than.as_secs(),
        stacks,
    })
}

/// The decision for one stack in `region`; pure, so the rules are unit-tested.
fn judge(
    stack: String,
    tagged: Vec<TaggedResource>,
    region: &str,
    options: &SweepOptions,
) -> SweepStack {
    // A creation time in the future (a clock ahead of this one) counts as created now.
    let age_of = |at: SystemTime| options.now.duration_since(at).unwrap_or_default();
    let youngest = tagged
        .iter()
        .filter_map(|r| r.created.map(|at| (age_of(at), r)))
        .min_by_key(|(age, _)| *age);
    let undated = tagged.iter().filter(|r| r.created.is_none()).count();
    let verdict = if !stack.starts_with(&options.prefix) {
        SweepDecision::Keep(format!("name does not start with {:?}", options.prefix))
    } else if !tagged.iter().any(|r| r.regional)
        && !tagged.iter().all(|r| r.region.as_deref() == Some(region))
    {
        // IAM only: a stack of another region, unless every resource says it is of this one
        // (what a teardown that stopped half-way here leaves behind).
        SweepDecision::Keep(format!(
            "only global IAM resources carry its tag here, and not all of them name {region} in bodyline:region: tear it down in its own region"
        ))
    } else {
        match youngest {
            None => SweepDecision::Keep("no resource has a creation time".into()),
            Some((age, r)) if age < options.older_than => SweepDecision::Keep(format!(
                "{} {} is {} old, under {}",
                r.kind.label(),
                r.name,
                render_age(age.as_secs()),
                render_age(options.older_than.as_secs())
            )),
            Some(_) => SweepDecision::Remove,
        }
    };
    SweepStack {
        stack,
        age_secs: youngest.map(|(age, _)| age.as_secs()),
        resources: tagged.len(),
        undated,
        verdict,
    }
}

/// Tears down every stack the plan chose, one after another with the ordinary teardown (one
/// failing does not stop the others), then lists every service again: a chosen stack with a
/// resource still tagged with its name is not removed. `base` is the stack file each chosen
/// stack is torn down as, under its own name, with `options` (the state files under its root
/// are used if any; its `endpoint_timeout` bounds each stack's wait for its endpoint).
pub async fn execute_sweep(
    plan: &SweepPlan,
    base: &Stack,
    config: &SdkConfig,
    options: &TeardownOptions,
) -> SweepReport {
    let mut swept = Vec::new();
    for chosen in plan.chosen() {
        tracing::info!(stack = %chosen.stack, "sweeping");
        swept.push(sweep_one(&chosen.stack, base, config, options).await);
    }
    let mut report = SweepReport {
        swept,
        recheck_error: None,
    };
    match inventory(&Clients::new(config), &plan.region).await {
        Ok(mut left) => {
            for s in &mut report.swept {
                s.leaks = left.remove(&s.stack).unwrap_or_default();
                if !s.leaks.is_empty() {
                    s.removed = false;
                    s.error.get_or_insert_with(|| {
                        format!(
                            "{} resource(s) still carry bodyline:stack={} after its teardown",
                            s.leaks.len(),
                            s.stack
                        )
                    });
                }
            }
        }
        Err(e) => report.recheck_error = Some(e.to_string()),
    }
    report
}

async fn sweep_one(
    name: &str,
    base: &Stack,
    config: &SdkConfig,
    options: &TeardownOptions,
) -> SweptStack {
    let failed = |error: String, teardown: Option<TeardownReport>| SweptStack {
        stack: name.to_string(),
        removed: false,
        error: Some(error),
        leaks: Vec::new(),
        teardown,
    };
    let stack = match base.clone().with_name(name) {
        Ok(stack) => stack,
        Err(e) => return failed(e.to_string(), None),
    };
    let plan = match plan_teardown(&stack, config, &options.root).await {
        Ok(plan) => plan,
        Err(e) => return failed(format!("cannot plan its teardown: {e}"), None),
    };
    let report = execute(&plan, config, options).await;
    if report.is_clean() {
        SweptStack {
            stack: name.to_string(),
            removed: true,
            error: None,
            leaks: Vec::new(),
            teardown: Some(report),
        }
    } else {
        let error = match &report.failure {
            Some(e) => e.to_string(),
            None => format!("its leak check found {} resource(s)", report.leaks.len()),
        };
        failed(error, Some(report))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::teardown::ResourceKind;

    const NOW: Duration = Duration::from_secs(1_000_000);

    fn at(age_secs: u64) -> Option<SystemTime> {
        Some(SystemTime::UNIX_EPOCH + NOW - Duration::from_secs(age_secs))
    }

    fn resource(kind: ResourceKind, created: Option<SystemTime>, regional: bool) -> TaggedResource {
        TaggedResource {
            kind,
            name: kind.label().replace(' ', "-"),
            created,
            regional,
            region: None,
        }
    }

    fn options() -> SweepOptions {
        SweepOptions {
            prefix: "ci-".into(),
            older_than: Duration::from_secs(3600),
            now: SystemTime::UNIX_EPOCH + NOW,
        }
    }

    #[test]
    fn one_young_resource_keeps_the_whole_stack() {
        let old = vec![
            resource(ResourceKind::Bucket, at(7200), true),
            resource(ResourceKind::Role, at(7300), false),
        ];
        let judged = judge("ci-1".into(), old.clone(), "us-east-1", &options());
        assert_eq!(judged.verdict, SweepDecision::Remove);
        assert_eq!((judged.age_secs, judged.resources), (Some(7200), 2));

        let mut in_flight = old;
        in_flight.push(resource(ResourceKind::Endpoint, at(60), true));
        let judged = judge("ci-1".into(), in_flight, "us-east-1", &options());
        assert_eq!(
            judged.verdict,
            SweepDecision::Keep("endpoint endpoint is 1m old, under 1h".into())
        );
        assert_eq!(judged.age_secs, Some(60));
    }

    #[test]
    fn the_prefix_a_future_clock_and_missing_times_keep_a_stack() {
        let old = vec![resource(ResourceKind::Bucket, at(7200), true)];
        assert!(matches!(
            judge("keep-1".into(), old.clone(), "us-east-1", &options()).verdict,
            SweepDecision::Keep(why) if why.contains("does not start with \"ci-\"")
        ));
        let mut ahead = old.clone();
        ahead.push(resource(
            ResourceKind::Topic,
            Some(SystemTime::UNIX_EPOCH + NOW + Duration::from_secs(600)),
            true,
        ));
        let judged = judge("ci-2".into(), ahead, "us-east-1", &options());
        assert_eq!(judged.age_secs, Some(0), "the future counts as now");
        assert!(matches!(judged.verdict, SweepDecision::Keep(_)));
        let undated = vec![resource(ResourceKind::Topic, None, true)];
        assert!(matches!(
            judge("ci-3".into(), undated, "us-east-1", &options()).verdict,
            SweepDecision::Keep(why) if why.contains("no resource has a creation time")
        ));
        let mut partly = old;
        partly.push(resource(ResourceKind::Alarm, None, true));
        let judged = judge("ci-4".into(), partly, "us-east-1", &options());
        assert_eq!((judged.verdict, judged.undated), (SweepDecision::Remove, 1));
        let global = vec![resource(ResourceKind::Role, at(7200), false)];
        assert!(matches!(
            judge("ci-5".into(), global, "us-east-1", &options()).verdict,
            SweepDecision::Keep(why) if why.contains("global IAM")
        ));
    }

    #[test]
    fn iam_left_by_a_half_finished_teardown_here_is_swept_and_another_regions_is_kept() {
        let tagged = |region: Option<&str>| {
            let mut role = resource(ResourceKind::Role, at(7200), false);
            role.region = region.map(str::to_string);
            let mut policy = resource(ResourceKind::ManagedPolicy, at(7200), false);
            policy.region = region.map(str::to_string);
            vec![role, policy]
        };
        let here = judge(
            "ci-6".into(),
            tagged(Some("us-east-1")),
            "us-east-1",
            &options(),
        );
        assert_eq!(here.verdict, SweepDecision::Remove);
        for other in [Some("eu-west-1"), None] {
            let judged = judge("ci-6".into(), tagged(other), "us-east-1", &options());
            assert!(
                matches!(&judged.verdict, SweepDecision::Keep(why) if why.contains("name us-east-1 in bodyline:region")),
                "{other:?}: {:?}",
                judged.verdict
            );
        }
        // Still only when old enough.
        let mut young = tagged(Some("us-east-1"));
        young[0].created = at(60);
        assert!(matches!(
            judge("ci-6".into(), young, "us-east-1", &options()).verdict,
            SweepDecision::Keep(_)
        ));
    }

    #[test]
    fn ages_read_as_units() {
        assert_eq!(render_age(0), "0s");
        assert_eq!(render_age(90), "1m30s");
        assert_eq!(render_age(6 * 3600), "6h");
        assert_eq!(render_age(86_400 + 61), "1d1m1s");
    }
}
