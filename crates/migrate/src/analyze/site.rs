//! Per call site: find the request, its input location, the matching upload, and build the
//! edits. One module per job, in layers (each uses only those listed before it):
//!
//! - `syntax`: expression shapes (parentheses, `Some(x)`, an S3 chain's `bucket/key`, purity);
//! - `request`: locating the request ([`request::CallSite`]), its calls and input location,
//!   the opt-out comment, deletable statements;
//! - `payload`: what an upload sends and whether it is provably within the inline limit;
//! - `staging`: the staging shapes left alone, named with their reason (loops, multipart,
//!   uploads inside helpers, stored upload builders);
//! - `helper`: helper summaries (a function that uploads its parameter and returns the URI);
//! - `upload`: matching the object to its upload or helper, into a rewrite plan;
//! - `rewrite`: the edits of an inline rewrite (body call, `Blob` import, removals);
//! - `branch`: the edits of a size branch;
//!
//! and this module, which runs them for each site of a function.

use std::ops::Range;

use crate::analyze::collect::FnInfo;
use crate::analyze::file::{FileCtx, ModuleInfo};
use crate::edit::EditSet;
use crate::options::Strategy;
use crate::verdict::{Site, SkipReason, Verdict};

mod branch;
mod helper;
mod payload;
mod request;
mod rewrite;
mod staging;
mod syntax;
mod upload;

pub(crate) use helper::summarize_helper;
use payload::{provably_small, Payload};
use request::CallSite;
use rewrite::SiteRewrite;
use upload::RewritePlan;

/// Analyse every `invoke_endpoint_async()` site of one function body.
pub(crate) fn analyze_fn(
    ctx: &FileCtx<'_, '_>,
    info: &FnInfo<'_>,
    edits: &mut EditSet,
    sites: &mut Vec<Site>,
    hints: &mut Vec<String>,
) {
    // Each upload feeds one site: the first that takes it.
    let mut claimed_uploads: Vec<Range<usize>> = Vec::new();
    for (chain_index, chain) in info.chains.iter().enumerate() {
        let Some(invoke_link) = chain.position("invoke_endpoint_async") else {
            continue;
        };
        let name_range = ctx.text.range(chain.links[invoke_link].method.span());
        let (line, column) = ctx.text.line_col(name_range.start);
        let site = CallSite {
            ctx,
            info,
            chain_index,
            invoke_link,
        };
        let (verdict, mut notes) = match site.rewrite(&mut claimed_uploads) {
            Ok((verdict, site_edits, notes)) => match edits.transaction(site_edits) {
                Ok(()) => (verdict, notes),
                Err(e) => (
                    Verdict::Skipped {
                        reason: SkipReason::Unsupported(format!(
                            "the rewrite conflicts with another one in this file ({e})"
                        )),
                    },
                    notes,
                ),
            },
            Err(reason) => (Verdict::Skipped { reason }, Vec::new()),
        };
        if matches!(verdict, Verdict::Rewritten | Verdict::Branched) {
            hints.extend(
                notes
                    .iter()
                    .filter(|n| n.starts_with("hint: "))
                    .map(|n| n["hint: ".len()..].to_owned()),
            );
        }
        notes.retain(|n| !n.starts_with("hint: "));
        if matches!(verdict, Verdict::Rewritten | Verdict::Branched) {
            notes.extend(cfg_note(ctx, name_range.start));
        }
        sites.push(Site {
            line,
            column,
            range: name_range,
            verdict,
            notes,
        });
    }
}

/// The note for an edit inside inline modules under `#[cfg]` in this file.
fn cfg_note(ctx: &FileCtx<'_, '_>, at: usize) -> Option<String> {
    let mut enclosing: Vec<&ModuleInfo> = ctx
        .modules
        .iter()
        .filter(|m| m.name.is_some() && m.range.contains(&at))
        .collect();
    enclosing.sort_by_key(|m| m.range.start);
    let cfg: Vec<&str> = enclosing
        .iter()
        .flat_map(|m| m.cfg.iter().map(String::as_str))
        .collect();
    let path: Vec<&str> = enclosing.iter().filter_map(|m| m.name.as_deref()).collect();
    (!cfg.is_empty()).then(|| cfg_note_text(&path.join("::"), &cfg))
}

/// "edited under `#[cfg(..)]` (module `m`): ...", for a site in a module compiled only in
/// some configurations.
pub(crate) fn cfg_note_text(module: &str, cfg: &[&str]) -> String {
    format!(
        "edited under `{}` (module `{module}`): build that configuration to check it",
        cfg.join(" ")
    )
}

impl<'a> CallSite<'_, 'a, '_> {
    /// Decide this site and build its edits: where the input location is set, where its
    /// object comes from (a helper, or an upload in this function), then inline or branch.
    fn rewrite(&self, claimed_uploads: &mut Vec<Range<usize>>) -> SiteRewrite {
        let (links, stored_builder) = self.request_links();
        self.refuse_branched_or_opted_out()?;
        let location = self.input_location(&links)?;
        let uri = location.uri()?;
        let at = self.range(location.call).start;
        let (plan, notes) = match self.helper_call(uri, at) {
            Some(helper) => self.helper_plan(helper, &location, uri)?,
            None => self.upload_plan(&location, uri, &links, claimed_uploads)?,
        };
        self.finish(plan, notes, stored_builder)
    }

    /// Inline the payload, or branch on its size: a file, `--strategy branch`, or (auto) a
    /// payload not provably within the limit gets the branch.
    fn finish(
        &self,
        plan: RewritePlan<'_, 'a>,
        notes: Vec<String>,
        stored: Option<String>,
    ) -> SiteRewrite {
        let branch = match (&plan.payload, self.ctx.strategy) {
            (Payload::Path(_), _) => true,
            (_, Strategy::Branch) => true,
            (_, Strategy::Inline) => false,
            (Payload::Bytes(e), Strategy::Auto) => {
                !provably_small(self.ctx, self.info, e, plan.put_stmt.range.start, 0)
            }
        };
        if branch {
            self.branch(plan, notes, stored.as_deref())
        } else {
            self.inline(plan, notes)
        }
    }
}
