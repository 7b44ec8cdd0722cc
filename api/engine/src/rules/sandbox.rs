//! The sandbox: one Rhai engine with hard limits, no file, network or module access and no
//! `eval`; scripts compiled once and shared; errors that name script, line and column.

use std::{fmt, sync::Arc};

use rhai::{Dynamic, Engine, EvalAltResult, FuncArgs, ParseError, Position, Scope, AST};
use sha2::{Digest, Sha256};

/// Limits of the sandbox. They bound what one script call may cost, so that a runaway
/// script fails with an error instead of holding a server thread.
const MAX_OPERATIONS: u64 = 2_000_000;
const MAX_CALL_LEVELS: usize = 32;
const MAX_EXPR_DEPTH: usize = 64;
const MAX_FN_EXPR_DEPTH: usize = 32;
const MAX_STRING_SIZE: usize = 64 * 1024;
const MAX_ARRAY_SIZE: usize = 10_000;
const MAX_MAP_SIZE: usize = 10_000;
/// Largest script source accepted.
pub const MAX_SOURCE_BYTES: usize = 256 * 1024;
/// Longest one script call may run, whatever it does: the operation limit counts steps,
/// and some steps (string building) are slow. Counted in processor time of the thread that
/// runs it, so that a loaded machine, where the call waits for a core, stops no script that
/// an idle one would finish.
const MAX_WALL_TIME: std::time::Duration = std::time::Duration::from_secs(2);

/// The processor time the calling thread has used.
fn thread_cpu_time() -> std::time::Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `clock_gettime` only writes the time into the `timespec` it is given, which
    // lives until it returns.
    let failed = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) } != 0;
    if failed {
        return std::time::Duration::ZERO;
    }
    std::time::Duration::new(
        now.tv_sec.max(0) as u64,
        now.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

/// A script failure, located in its source.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleError {
    /// The script, e.g. `rules/qii/v2.rhai`.
    pub script: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// For a declaration, the path of the offending key: `dimensions[2].indicators[0].standardise`.
    pub path: Option<String>,
    /// For a value of one org unit (a figure that is not a number), the unit's id.
    pub unit: Option<i64>,
    pub message: String,
}

impl RuleError {
    /// An error not tied to a position (e.g. a declaration that does not add up).
    pub fn new(script: &str, message: impl Into<String>) -> Self {
        Self {
            script: script.to_owned(),
            line: None,
            column: None,
            path: None,
            unit: None,
            message: message.into(),
        }
    }

    fn at(script: &str, position: Position, message: impl Into<String>) -> Self {
        Self {
            script: script.to_owned(),
            line: position.line(),
            column: position.position(),
            path: None,
            unit: None,
            message: message.into(),
        }
    }

    fn from_parse(script: &str, err: ParseError) -> Self {
        let position = err.position();
        Self::at(
            script,
            position,
            format!("syntax error: {}", err.err_type()),
        )
    }

    fn from_eval(script: &str, err: EvalAltResult) -> Self {
        // Calls wrap the failure once per function level; the innermost error holds the
        // line that failed.
        let mut position = err.position();
        let mut current = err;
        while let EvalAltResult::ErrorInFunctionCall(_, _, inner, _) = current {
            if !inner.position().is_none() {
                position = inner.position();
            }
            current = *inner;
        }
        let message = match current {
            EvalAltResult::ErrorTooManyOperations(_) => {
                "the script ran too long (operation limit reached; is there an endless loop?)"
                    .to_owned()
            }
            EvalAltResult::ErrorStackOverflow(_) => "the script nested calls too deeply".to_owned(),
            EvalAltResult::ErrorDataTooLarge(what, _) => {
                format!("the script built too large a value ({what})")
            }
            other => other.to_string(),
        };
        Self::at(script, position, message)
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(col)) => write!(f, "{}:{line}:{col}: {}", self.script, self.message),
            (Some(line), None) => write!(f, "{}:{line}: {}", self.script, self.message),
            _ => write!(f, "{}: {}", self.script, self.message),
        }
    }
}

impl std::error::Error for RuleError {}

/// A compiled script, identified by its content hash.
#[derive(Clone)]
pub struct Script {
    /// Where it came from, for errors.
    pub name: String,
    /// SHA-256 of the source, hex: the version identity stored with every score.
    pub hash: String,
    ast: Arc<AST>,
    /// Line of each function definition, to locate failures Rhai reports without a position.
    fn_lines: Arc<std::collections::HashMap<String, usize>>,
    /// The source, to locate what a declaration got wrong.
    source: Arc<str>,
}

impl Script {
    /// The script's text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The 1-based line where `fn name(` is defined.
    pub fn function_line(&self, name: &str) -> Option<usize> {
        self.fn_lines.get(name).copied()
    }

    /// Whether the script defines a function `name` taking `arity` arguments.
    pub fn defines(&self, name: &str, arity: usize) -> bool {
        self.ast
            .iter_functions()
            .any(|f| f.name == name && f.params.len() == arity)
    }
}

/// Compiled rule files by path and content hash.
type ScriptCache = std::collections::HashMap<(String, String), Script>;

/// The shared, sandboxed engine.
#[derive(Clone)]
pub struct Sandbox {
    engine: Arc<Engine>,
    /// Rule files already compiled: each version is compiled once, however often the rules
    /// are reloaded or checked.
    compiled: Arc<std::sync::Mutex<ScriptCache>>,
    /// Scripts run on blocking threads, so many at once at most: the async workers that
    /// answer every other request are never held by a script.
    pool: Arc<tokio::sync::Semaphore>,
    /// How long one call may run, whatever its operation count.
    wall_time: std::time::Duration,
}

thread_local! {
    /// Set on the threads [`Sandbox::run`] lends to scripts.
    static IN_POOL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// When the call running on this thread must stop: the thread's processor time then.
    static DEADLINE: std::cell::Cell<Option<std::time::Duration>> = const { std::cell::Cell::new(None) };
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    /// An engine with the standard library (no I/O in it) and every limit set.
    pub fn new() -> Self {
        let threads = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            engine: Arc::new(limited_engine()),
            compiled: Arc::default(),
            pool: Arc::new(tokio::sync::Semaphore::new(threads)),
            wall_time: MAX_WALL_TIME,
        }
    }

    /// The same sandbox with another wall-clock limit per call.
    pub fn with_wall_time(mut self, wall_time: std::time::Duration) -> Self {
        self.wall_time = wall_time;
        self
    }

    /// Runs script work off the async workers: on a blocking thread, with at most as many
    /// at once as the machine has cores (later ones wait their turn). Every script call
    /// made from async code goes through here.
    pub async fn run<T, F>(&self, work: F) -> Result<T, RuleError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let permit = self
            .pool
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| RuleError::new("rules", "the script pool is closed"))?;
        let outcome = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            IN_POOL.with(|p| p.set(true));
            let value = work();
            IN_POOL.with(|p| p.set(false));
            value
        })
        .await;
        outcome.map_err(|e| RuleError::new("rules", format!("a script run failed: {e}")))
    }

    /// Runs script work on the calling thread, for tools and benchmarks whose thread
    /// answers no requests (a server uses [`Sandbox::run`]).
    pub fn on_this_thread<T>(work: impl FnOnce() -> T) -> T {
        let before = IN_POOL.with(|p| p.replace(true));
        let value = work();
        IN_POOL.with(|p| p.set(before));
        value
    }

    /// Compiles a rule file once: later calls with the same name and source reuse it.
    pub fn compile_cached(&self, name: &str, source: &str) -> Result<Script, RuleError> {
        let key = (name.to_owned(), content_hash(source));
        if let Some(script) = self
            .compiled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(script.clone());
        }
        let script = self.compile(name, source)?;
        self.compiled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, script.clone());
        Ok(script)
    }

    /// Compiles a script; `name` labels it in errors.
    pub fn compile(&self, name: &str, source: &str) -> Result<Script, RuleError> {
        if source.len() > MAX_SOURCE_BYTES {
            return Err(RuleError::new(
                name,
                format!(
                    "the script is {} bytes; at most {MAX_SOURCE_BYTES} are accepted",
                    source.len()
                ),
            ));
        }
        let ast = self
            .engine
            .compile(source)
            .map_err(|e| RuleError::from_parse(name, e))?;
        Ok(Script {
            name: name.to_owned(),
            hash: content_hash(source),
            ast: Arc::new(ast),
            fn_lines: Arc::new(function_lines(source)),
            source: Arc::from(source),
        })
    }

    /// Calls a function of a script. A failure names the script, line and column; for a
    /// call stopped by the operation limit, the statement that was running.
    pub fn call(
        &self,
        script: &Script,
        function: &str,
        args: impl FuncArgs + Clone,
    ) -> Result<Dynamic, RuleError> {
        if !IN_POOL.with(|p| p.get()) && tokio::runtime::Handle::try_current().is_ok() {
            // An async worker must not be held by a script: a bug, refused loudly.
            tracing::error!(script = %script.name, function, "script called outside the script pool");
            return Err(RuleError::new(
                &script.name,
                format!("`{function}()` was called outside the script pool"),
            ));
        }
        let mut scope = Scope::new();
        let deadline = thread_cpu_time() + self.wall_time;
        let previous = DEADLINE.with(|d| d.replace(Some(deadline)));
        let result =
            self.engine
                .call_fn::<Dynamic>(&mut scope, &script.ast, function, args.clone());
        DEADLINE.with(|d| d.set(previous));
        result.map_err(|e| {
            if let EvalAltResult::ErrorTerminated(_, at) = innermost(&e) {
                // Stopped where it was running.
                let mut err = RuleError::new(
                    &script.name,
                    format!(
                        "in `{function}()`: the script ran longer than {} of processor time \
                         (time limit reached; is there an endless loop or a very large string?)",
                        humantime::format_duration(self.wall_time)
                    ),
                );
                let (line, column) = match at.line() {
                    Some(line) => (Some(line), at.position()),
                    None => (script.fn_lines.get(function).copied(), Some(1)),
                };
                err.line = line;
                err.column = line.and(column);
                return err;
            }
            // Limits are reported at the call, not where they were hit: running the call
            // again step by step finds the statement.
            let limit = matches!(
                innermost(&e),
                EvalAltResult::ErrorTooManyOperations(_)
                    | EvalAltResult::ErrorStackOverflow(_)
                    | EvalAltResult::ErrorDataTooLarge(..)
            );
            let mut err = RuleError::from_eval(&script.name, *e);
            if err.line.is_none() || limit {
                let spun = if limit {
                    spinning_at(script, function, args)
                } else {
                    Position::NONE
                };
                if spun.is_none() && err.line.is_some() {
                    // Located already.
                } else if spun.is_none() {
                    // Point at the function that was running.
                    err.line = script.fn_lines.get(function).copied();
                    err.column = err.line.map(|_| 1);
                } else {
                    err.line = spun.line();
                    err.column = spun.position();
                }
                err.message = format!("in `{function}()`: {}", err.message);
            }
            err
        })
    }
}

/// The error a call's failure comes down to, through the calls that wrap it.
fn innermost(err: &EvalAltResult) -> &EvalAltResult {
    match err {
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _) => innermost(inner),
        other => other,
    }
}

/// Where a call that hit a limit (operations, call depth, size) was when it did, found by
/// running it again step by step.
fn spinning_at(script: &Script, function: &str, args: impl FuncArgs) -> Position {
    LAST_STEP.with(|step| step.set(Position::NONE));
    let mut scope = Scope::new();
    let _ = diagnosing_engine().call_fn::<Dynamic>(&mut scope, &script.ast, function, args);
    LAST_STEP.with(|step| step.get())
}

/// The sandbox's engine: the standard library (no I/O in it) and every limit set.
fn limited_engine() -> Engine {
    let mut engine = Engine::new();
    engine
        .set_max_operations(MAX_OPERATIONS)
        .set_max_call_levels(MAX_CALL_LEVELS)
        .set_max_expr_depths(MAX_EXPR_DEPTH, MAX_FN_EXPR_DEPTH)
        .set_max_string_size(MAX_STRING_SIZE)
        .set_max_array_size(MAX_ARRAY_SIZE)
        .set_max_map_size(MAX_MAP_SIZE)
        .set_max_modules(0)
        .disable_symbol("eval");
    // No module resolver: `import` cannot reach the file system.
    engine.set_module_resolver(rhai::module_resolvers::DummyModuleResolver::new());
    // The wall-clock limit, checked every few hundred operations.
    engine.on_progress(|ops| {
        if ops % 256 != 0 {
            return None;
        }
        let late = DEADLINE
            .with(|d| d.get())
            .is_some_and(|d| thread_cpu_time() > d);
        late.then(|| Dynamic::from("time limit"))
    });
    // `print` and `debug` go to the log, not to the server's standard output.
    engine.on_print(|text| tracing::info!(target: "rules", "{text}"));
    engine.on_debug(|text, source, pos| tracing::debug!(target: "rules", ?source, %pos, "{text}"));
    engine
}

thread_local! {
    /// Where the diagnosing engine of this thread last stepped.
    static LAST_STEP: std::cell::Cell<Position> = const { std::cell::Cell::new(Position::NONE) };
}

/// The same engine stepping through every node and noting where it is. Rhai reports the
/// operation limit at the call, not at the statement that spun; running the call again
/// with this engine finds that statement. Only failed calls pay for the stepping.
fn diagnosing_engine() -> &'static Engine {
    static ENGINE: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut engine = limited_engine();
        // Marked volatile by Rhai (it may change in a later release), not deprecated.
        #[allow(deprecated)]
        engine.register_debugger(
            |_, debugger| debugger,
            |_, event, node, _, position| {
                // Steps only (not the exit on the way out), and statements, which locate
                // a spin better than the expressions within them.
                let step = matches!(event, rhai::debugger::DebuggerEvent::Step);
                if step && node.is_stmt() && !position.is_none() {
                    LAST_STEP.with(|step| step.set(position));
                }
                Ok(rhai::debugger::DebuggerCommand::StepInto)
            },
        );
        engine
    })
}

/// The 1-based line where each `fn name(` is defined.
fn function_lines(source: &str) -> std::collections::HashMap<String, usize> {
    source
        .lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let line = line.trim_start();
            let rest = line
                .strip_prefix("private fn ")
                .or_else(|| line.strip_prefix("fn "))?;
            let name = rest.split('(').next()?.trim();
            (!name.is_empty()).then(|| (name.to_owned(), i + 1))
        })
        .collect()
}

/// SHA-256 of a script's source, in hex.
pub fn content_hash(source: &str) -> String {
    hex::encode(Sha256::digest(source.as_bytes()))
}

/// The first error and how many more there are.
pub fn summary(errors: &[RuleError]) -> String {
    match errors {
        [] => "rejected".to_owned(),
        [one] => one.to_string(),
        [first, rest @ ..] => format!("{first} (and {} more)", rest.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_syntax_error_names_script_line_and_column() {
        let err = Sandbox::new()
            .compile("rules/x.rhai", "fn index() {\n    let x = ;\n}\n")
            .err()
            .unwrap();
        assert_eq!(err.script, "rules/x.rhai");
        assert_eq!(err.line, Some(2));
        assert!(err.column.is_some());
        assert!(err.to_string().starts_with("rules/x.rhai:2:"), "{err}");
    }

    #[test]
    fn an_endless_loop_is_stopped_with_its_line() {
        // The operation limit is what is tested: a wall-clock limit far off, so that a
        // loaded machine does not reach it first.
        let sandbox = Sandbox::new().with_wall_time(std::time::Duration::from_secs(600));
        let script = sandbox
            .compile("loop.rhai", "fn index() {\n  loop { }\n}")
            .unwrap();
        let err = sandbox.call(&script, "index", ()).err().unwrap();
        assert!(err.message.contains("too long"), "{err}");
        assert_eq!(err.line, Some(2), "{err}");
        let script = sandbox
            .compile(
                "spin.rhai",
                "// spins\nfn index() {\n    let n = 0;\n    loop { n += 1; }\n}\n",
            )
            .unwrap();
        let err = sandbox.call(&script, "index", ()).err().unwrap();
        assert_eq!(err.line, Some(4), "{err}");
    }

    #[test]
    fn eval_and_imports_are_not_available() {
        let sandbox = Sandbox::new();
        assert!(sandbox.compile("e.rhai", "fn f() { eval(\"1\") }").is_err());
        let script = sandbox.compile("i.rhai", "fn f() { import \"secrets\" as s; 1 }");
        let failed = match script {
            Err(_) => true,
            Ok(s) => sandbox.call(&s, "f", ()).is_err(),
        };
        assert!(failed);
    }

    #[test]
    fn runaway_recursion_and_huge_values_are_refused() {
        let sandbox = Sandbox::new();
        let deep = sandbox.compile("d.rhai", "fn f(n) { f(n + 1) }").unwrap();
        assert!(sandbox.call(&deep, "f", (1_i64,)).is_err());
        let big = sandbox
            .compile(
                "b.rhai",
                "fn f() { let a = []; for i in 0..100000 { a.push(i) } a }",
            )
            .unwrap();
        assert!(sandbox.call(&big, "f", ()).is_err());
    }

    #[test]
    fn size_and_depth_limits_are_located_at_the_statement_that_hit_them() {
        let sandbox = Sandbox::new();
        let big = sandbox
            .compile(
                "b.rhai",
                "fn f() {\n    let a = [];\n    for i in 0..100000 {\n        a.push(i);\n    }\n    a\n}\n",
            )
            .unwrap();
        let err = sandbox.call(&big, "f", ()).err().unwrap();
        assert!(err.message.contains("too large"), "{err}");
        // The loop that grew it, not the function's first line.
        assert!(matches!(err.line, Some(3 | 4)), "{err}");
        let deep = sandbox
            .compile("d.rhai", "fn f(n) {\n    let m = n + 1;\n    f(m)\n}\n")
            .unwrap();
        let err = sandbox.call(&deep, "f", (1_i64,)).err().unwrap();
        assert!(err.message.contains("deeply"), "{err}");
        assert_eq!(err.line, Some(3), "{err}");
    }

    #[test]
    fn the_hash_identifies_the_content() {
        assert_eq!(content_hash("a"), content_hash("a"));
        assert_ne!(content_hash("a"), content_hash("b"));
        assert_eq!(content_hash("").len(), 64);
    }
}
