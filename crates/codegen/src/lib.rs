//! Client code generation. Each target language is one module with one
//! `generate(&Schema) -> GeneratedFile` function, listed in `Language`;
//! `rows` describes each table's rows once, as drizzle-orm infers them, for
//! every client that mirrors them.

pub mod drizzle;
pub mod rows;
pub mod typescript;
mod writer;
pub mod zod;

use schemaforge_model::Schema;

/// A generated source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// File name relative to the output directory, e.g. `schema.ts`.
    pub path: String,
    pub contents: String,
}

/// The client languages. Adding one is a module with a `generate` function
/// and a variant here; every match below then says what it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Language {
    /// drizzle-orm pg-core `schema.ts` with relations.
    Drizzle,
    /// Plain TypeScript row types (`types.ts`).
    Typescript,
    /// Zod 4 row schemas (`zod.ts`).
    Zod,
}

impl Language {
    pub const ALL: [Language; 3] = [Language::Drizzle, Language::Typescript, Language::Zod];

    pub fn name(self) -> &'static str {
        match self {
            Language::Drizzle => "drizzle",
            Language::Typescript => "typescript",
            Language::Zod => "zod",
        }
    }

    pub fn from_name(name: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.name() == name)
    }

    /// The client's source file.
    pub fn generate(self, schema: &Schema) -> GeneratedFile {
        match self {
            Language::Drizzle => drizzle::generate(schema),
            Language::Typescript => typescript::generate(schema),
            Language::Zod => zod::generate(schema),
        }
    }

    /// npm packages the client imports at run time, with the versions it is tested against.
    pub fn peer_dependencies(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Language::Drizzle => &[("drizzle-orm", "^0.45.0")],
            Language::Typescript => &[],
            Language::Zod => &[("zod", "^4.0.0")],
        }
    }
}
