//! One function per subcommand: read inputs, call the core, write outputs.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use schemaforge_model::Schema;
use schemaforge_spec::Code;

use crate::Format;
use crate::report;

/// Definitions larger than this are refused before reading them whole.
const MAX_FILE_BYTES: u64 = schemaforge_spec::json::MAX_DEFINITION_BYTES as u64;

fn read_definition(path: &Path) -> anyhow::Result<String> {
    let metadata = fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if metadata.len() > MAX_FILE_BYTES {
        bail!("{} is {} bytes; definitions are limited to {MAX_FILE_BYTES} bytes", path.display(), metadata.len());
    }
    let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8 text", path.display()))
}

/// Parses and validates, printing diagnostics; `None` means invalid (already reported).
fn load(path: &Path, format: Format) -> anyhow::Result<Option<Schema>> {
    let text = read_definition(path)?;
    match schemaforge_spec::parse_definition(&text) {
        Ok(schema) => Ok(Some(schema)),
        Err(diagnostics) => {
            match format {
                Format::Human => eprint!("{}", report::human(path, &diagnostics)),
                Format::Json => print!("{}", report::json(&diagnostics)),
            }
            Ok(None)
        }
    }
}

pub fn validate(path: &Path, format: Format) -> anyhow::Result<ExitCode> {
    let Some(schema) = load(path, format)? else { return Ok(ExitCode::from(1)) };
    match format {
        Format::Human => {
            let policies: usize = schema.tables.iter().map(|t| t.policies.len()).sum();
            println!("{} is valid: {} tables, {} enums, {} policies", path.display(), schema.tables.len(), schema.enums.len(), policies);
        }
        Format::Json => print!("{}", report::json(&[])),
    }
    Ok(ExitCode::SUCCESS)
}

pub struct GenerateArgs {
    pub schema: PathBuf,
    pub out: PathBuf,
    pub name: String,
    pub ts: Option<PathBuf>,
    pub breakpoints: bool,
    pub format: Format,
}

pub fn generate(args: &GenerateArgs) -> anyhow::Result<ExitCode> {
    schemaforge_kit::folder::check_name(&args.name)?;
    let Some(schema) = load(&args.schema, args.format)? else { return Ok(ExitCode::from(1)) };
    let journal = args.out.join("meta").join("_journal.json");
    if journal.exists() {
        bail!(
            "{} already holds migrations ({} exists); this version generates the initial migration into an empty folder",
            args.out.display(),
            journal.display()
        );
    }
    let statements = schemaforge_sql::render_create(&schema)?;
    if statements.is_empty() {
        println!("The definition is empty: nothing to migrate, nothing written");
        return Ok(ExitCode::SUCCESS);
    }
    let migration = schemaforge_kit::Migration { name: &args.name, when_millis: now_millis()?, breakpoints: args.breakpoints };
    let files = schemaforge_kit::initial_migration(&schema, &statements, &migration)?;
    let schema_ts = schemaforge_codegen::drizzle::generate(&schema);
    let ts_path = args.ts.clone().unwrap_or_else(|| args.out.join(&schema_ts.path));

    let mut targets: Vec<(PathBuf, &str)> = files.iter().map(|f| (args.out.join(&f.path), f.contents.as_str())).collect();
    // The journal is the folder's index: write it last, so an interrupted run
    // never leaves a journal that names a missing file.
    targets.sort_by_key(|(path, _)| path.ends_with("_journal.json"));
    targets.insert(0, (ts_path, schema_ts.contents.as_str()));
    let mut seen = std::collections::BTreeSet::new();
    for (path, _) in &targets {
        if !seen.insert(path.clone()) {
            bail!("two outputs would be written to {}; choose another --ts", path.display());
        }
        if path.exists() {
            bail!("{} already exists; refusing to overwrite it", path.display());
        }
    }
    write_all(&targets)?;
    println!("Generated {} statements for {} tables:", statements.len(), schema.tables.len());
    for (path, _) in &targets {
        println!("  {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Milliseconds since the epoch, or `SOURCE_DATE_EPOCH` (seconds) when set, so
/// builds can be reproduced byte for byte.
fn now_millis() -> anyhow::Result<u64> {
    if let Ok(epoch) = std::env::var("SOURCE_DATE_EPOCH") {
        let seconds: u64 = epoch.trim().parse().with_context(|| format!("SOURCE_DATE_EPOCH `{epoch}` is not a number of seconds"))?;
        return Ok(seconds.saturating_mul(1000));
    }
    let elapsed = SystemTime::now().duration_since(UNIX_EPOCH).context("the system clock is before 1970")?;
    Ok(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
}

/// Writes every file to a temporary name next to its target first, then
/// renames them into place in order: a reader never sees half a file, and a
/// failure while writing leaves nothing behind.
fn write_all(targets: &[(PathBuf, &str)]) -> anyhow::Result<()> {
    let stage = |path: &Path, contents: &str| -> anyhow::Result<PathBuf> {
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let temporary = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
        let mut file = fs::File::create(&temporary).with_context(|| format!("cannot write {}", temporary.display()))?;
        file.write_all(contents.as_bytes())
            .and_then(|()| file.sync_all())
            .with_context(|| format!("cannot write {}", temporary.display()))?;
        Ok(temporary)
    };
    let mut staged: Vec<(PathBuf, &Path)> = Vec::new();
    for (path, contents) in targets {
        match stage(path, contents) {
            Ok(temporary) => staged.push((temporary, path)),
            Err(error) => {
                for (temporary, _) in &staged {
                    let _ = fs::remove_file(temporary);
                }
                return Err(error);
            }
        }
    }
    for (temporary, path) in staged {
        fs::rename(&temporary, path).with_context(|| format!("cannot move {} into place", path.display()))?;
    }
    Ok(())
}

pub fn plan(from: &Path, to: &Path, format: Format) -> anyhow::Result<ExitCode> {
    let (Some(old), Some(new)) = (load(from, format)?, load(to, format)?) else { return Ok(ExitCode::from(1)) };
    let plan = schemaforge_plan::plan(&old, &new)?;
    match format {
        Format::Human => print!("{}", report::plan_human(from, to, &plan)),
        Format::Json => print!("{}", report::plan_json(&plan)),
    }
    Ok(ExitCode::SUCCESS)
}

pub fn diff(from: &Path, to: &Path, down: bool) -> anyhow::Result<ExitCode> {
    let (Some(old), Some(new)) = (load(from, Format::Human)?, load(to, Format::Human)?) else { return Ok(ExitCode::from(1)) };
    let plan = if down { schemaforge_plan::plan_down(&old, &new)? } else { schemaforge_plan::plan(&old, &new)? };
    print!("{}", report::script(&plan));
    Ok(ExitCode::SUCCESS)
}

pub fn schema_json() -> anyhow::Result<ExitCode> {
    let mut text = serde_json::to_string_pretty(schemaforge_spec::json_schema())?;
    text.push('\n');
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

pub fn explain(code: Option<&str>) -> anyhow::Result<ExitCode> {
    match code {
        None => {
            for code in Code::ALL {
                println!("{:<24} {}", code.as_str(), code.description());
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(wanted) => match Code::ALL.iter().find(|c| c.as_str() == wanted) {
            Some(code) => {
                println!("{}: {}", code.as_str(), code.description());
                Ok(ExitCode::SUCCESS)
            }
            None => {
                let hint = schemaforge_spec::suggest::did_you_mean(wanted, Code::ALL.iter().map(|c| c.as_str()));
                bail!("unknown code `{wanted}`{}", hint.map(|h| format!("; {h}")).unwrap_or_default())
            }
        },
    }
}
