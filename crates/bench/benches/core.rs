//! criterion benches of the pure core at 10, 100, 1,000 and 5,000 tables:
//! parse and validate, diff, render, plan (up and down), drizzle `schema.ts`,
//! the kit snapshot, and the whole in-memory `generate` pipeline — each for
//! the initial migration and, where it differs, the incremental one.
//!
//! Besides time, each bench prints what one call allocates (count, bytes and
//! the peak held at once), from a counting global allocator in this binary.
//!
//! `cargo bench -p schemaforge-bench` runs them all (about ten minutes on two
//! cores); `SCHEMAFORGE_BENCH_SIZES=10,100` limits the sizes, and criterion's
//! own filter selects benches (`cargo bench -p schemaforge-bench -- plan/`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use schemaforge_model::Schema;

/// Counts allocations while `COUNTING` is set; otherwise just forwards.
struct CountingAllocator;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static ALLOCATED_BYTES: AtomicU64 = AtomicU64::new(0);
static LIVE_BYTES: AtomicU64 = AtomicU64::new(0);
static PEAK_BYTES: AtomicU64 = AtomicU64::new(0);

impl CountingAllocator {
    fn grew(size: usize) {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
            ALLOCATED_BYTES.fetch_add(size as u64, Ordering::Relaxed);
            let live = LIVE_BYTES.fetch_add(size as u64, Ordering::Relaxed) + size as u64;
            PEAK_BYTES.fetch_max(live, Ordering::Relaxed);
        }
    }

    fn shrank(size: usize) {
        if COUNTING.load(Ordering::Relaxed) {
            // Memory allocated before counting started may be freed during it.
            let _ = LIVE_BYTES.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |live| Some(live.saturating_sub(size as u64)));
        }
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counters are atomics and never influence what is allocated.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Self::grew(layout.size());
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        Self::shrank(layout.size());
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Self::grew(layout.size());
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // A reallocation counts as one allocation of the new size and a free of the old.
        Self::shrank(layout.size());
        Self::grew(new_size);
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Runs `work` once, counting, and prints what it allocated.
fn report_allocations<T>(label: &str, work: impl FnOnce() -> T) {
    for counter in [&ALLOCATIONS, &ALLOCATED_BYTES, &LIVE_BYTES, &PEAK_BYTES] {
        counter.store(0, Ordering::Relaxed);
    }
    COUNTING.store(true, Ordering::SeqCst);
    let result = work();
    COUNTING.store(false, Ordering::SeqCst);
    drop(black_box(result));
    let mb = |bytes: u64| bytes as f64 / 1_048_576.0;
    println!(
        "{label:<40} allocations: {:>10}  allocated: {:>9.2} MiB  peak held: {:>8.2} MiB",
        ALLOCATIONS.load(Ordering::Relaxed),
        mb(ALLOCATED_BYTES.load(Ordering::Relaxed)),
        mb(PEAK_BYTES.load(Ordering::Relaxed))
    );
}

const DEFAULT_SIZES: [usize; 4] = [10, 100, 1_000, 5_000];
const SEED: u64 = 1;

fn sizes() -> Vec<usize> {
    match std::env::var("SCHEMAFORGE_BENCH_SIZES") {
        Ok(list) => list.split(',').filter_map(|s| s.trim().replace('_', "").parse().ok()).collect(),
        Err(_) => DEFAULT_SIZES.to_vec(),
    }
}

/// One size's inputs, prepared once outside the measurements.
struct Inputs {
    tables: usize,
    base_text: String,
    edited_text: String,
    base: Schema,
    edited: Schema,
    empty: Schema,
}

impl Inputs {
    fn new(tables: usize) -> Inputs {
        let base_value = schemaforge_bench::synth::definition(tables, SEED);
        let edited_value = schemaforge_bench::synth::edited(&base_value, SEED);
        let base_text = serde_json::to_string_pretty(&base_value).expect("a definition serialises");
        let edited_text = serde_json::to_string_pretty(&edited_value).expect("a definition serialises");
        let parse = |text: &str| {
            schemaforge_spec::parse_definition(text)
                .unwrap_or_else(|d| panic!("the synthetic definition is invalid: {:?}", &d[..d.len().min(3)]))
        };
        let (base, edited) = (parse(&base_text), parse(&edited_text));
        let empty = Schema::empty(base.dialect);
        Inputs { tables, base_text, edited_text, base, edited, empty }
    }
}

/// Fewer samples where one call takes long: criterion's default 100 samples
/// of a 5,000-table parse would take minutes.
fn configure(criterion: &mut Criterion, tables: usize) {
    let (samples, seconds) = match tables {
        0..=100 => (50, 3),
        101..=1_000 => (20, 5),
        _ => (10, 8),
    };
    *criterion = std::mem::take(criterion).sample_size(samples).measurement_time(Duration::from_secs(seconds));
}

/// Benches `work` as `group/tables` and reports its allocations.
fn bench<T>(criterion: &mut Criterion, group: &str, tables: usize, work: impl Fn() -> T) {
    report_allocations(&format!("{group}/{tables}"), &work);
    let mut group = criterion.benchmark_group(group);
    group.throughput(Throughput::Elements(tables as u64));
    group.bench_function(BenchmarkId::from_parameter(tables), |b| b.iter(|| black_box(work())));
    group.finish();
}

/// What `schemaforge generate` computes between reading the definition and
/// writing files: validate, plan both ways, the kit files, `schema.ts`.
/// An incremental run also reads the folder's last definition, `previous`.
fn generate_in_memory(text: &str, previous: Option<&str>) -> usize {
    let schema = schemaforge_spec::parse_definition(text).expect("valid");
    let from = match previous {
        Some(previous) => schemaforge_spec::parse_definition(previous).expect("valid"),
        None => Schema::empty(schema.dialect),
    };
    let from = &from;
    let up = schemaforge_plan::plan(from, &schema).expect("plans");
    let down = schemaforge_plan::plan_down(from, &schema).expect("plans");
    let (up_statements, down_statements) = (up.file_statements(), down.file_statements());
    let new = schemaforge_kit::NewMigration { schema: &schema, up: &up_statements, down: &down_statements, definition: text };
    let migration = schemaforge_kit::Migration { name: "bench", when_millis: 1_700_000_000_000, breakpoints: true };
    let files = schemaforge_kit::next_migration(None, &new, &migration).expect("a migration");
    let schema_ts = schemaforge_codegen::drizzle::generate(&schema);
    files.iter().map(|f| f.contents.len()).sum::<usize>() + schema_ts.contents.len()
}

fn core(criterion: &mut Criterion) {
    for tables in sizes() {
        let inputs = Inputs::new(tables);
        let Inputs { base_text, edited_text, base, edited, empty, .. } = &inputs;
        configure(criterion, inputs.tables);
        println!(
            "\n{tables} tables: {} KiB definition, {} statements initially, {} incrementally",
            base_text.len() / 1024,
            schemaforge_sql::render_create(base).map_or(0, |s| s.len()),
            schemaforge_sql::render(base, edited, &schemaforge_diff::diff(base, edited)).map_or(0, |s| s.len())
        );

        bench(criterion, "parse_validate", tables, || schemaforge_spec::parse_definition(base_text));
        bench(criterion, "diff_initial", tables, || schemaforge_diff::plan_create(base));
        bench(criterion, "diff_incremental", tables, || schemaforge_diff::diff(base, edited));
        let create_steps = schemaforge_diff::plan_create(base);
        bench(criterion, "render_initial", tables, || schemaforge_sql::render(empty, base, &create_steps));
        let edit_steps = schemaforge_diff::diff(base, edited);
        bench(criterion, "render_incremental", tables, || schemaforge_sql::render(base, edited, &edit_steps));
        bench(criterion, "plan_initial", tables, || schemaforge_plan::plan(empty, base));
        bench(criterion, "plan_incremental", tables, || schemaforge_plan::plan(base, edited));
        bench(criterion, "plan_down_incremental", tables, || schemaforge_plan::plan_down(base, edited));
        bench(criterion, "codegen_schema_ts", tables, || schemaforge_codegen::drizzle::generate(base));
        bench(criterion, "kit_snapshot", tables, || {
            let names = schemaforge_kit::DrizzleNames::assign(base);
            schemaforge_kit::snapshot::snapshot_text(base, &names, "00000000-0000-0000-0000-000000000000")
        });
        bench(criterion, "generate_initial", tables, || generate_in_memory(base_text, None));
        bench(criterion, "generate_incremental", tables, || generate_in_memory(edited_text, Some(base_text)));
    }
}

criterion_group!(benches, core);
criterion_main!(benches);
