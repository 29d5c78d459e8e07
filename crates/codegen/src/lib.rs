//! Client code generation. Each target language is one module with one
//! `generate(&Schema) -> GeneratedFile` function.

pub mod drizzle;
mod writer;

/// A generated source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// File name relative to the output directory, e.g. `schema.ts`.
    pub path: String,
    pub contents: String,
}
