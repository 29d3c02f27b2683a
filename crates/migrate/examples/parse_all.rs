//! Baseline for the benchmark: walk the given paths like `bodyline migrate` does and run a bare
//! `syn::parse_file` over every `.rs` file, in parallel, printing how many parsed.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

/// The same allocator as the `bodyline` binary, so the ratio compares parsing, not allocators.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let roots: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let mut files = Vec::new();
    for root in &roots {
        for entry in ignore::WalkBuilder::new(root).build().flatten() {
            if entry.file_type().is_some_and(|t| t.is_file())
                && entry.path().extension().is_some_and(|x| x == "rs")
            {
                files.push(entry.into_path());
            }
        }
    }
    let parsed = AtomicUsize::new(0);
    let work = || {
        files.par_iter().for_each(|p| {
            if let Ok(text) = std::fs::read_to_string(p) {
                if syn::parse_file(&text).is_ok() {
                    parsed.fetch_add(1, Ordering::Relaxed);
                }
                proc_macro2::extra::invalidate_current_thread_spans();
            }
        })
    };
    match rayon::ThreadPoolBuilder::new()
        .stack_size(256 << 20)
        .build()
    {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
    }
    println!(
        "{} of {} files parsed",
        parsed.load(Ordering::Relaxed),
        files.len()
    );
}
