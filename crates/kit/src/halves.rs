//! Work over a long list split between two threads, the order kept.
//!
//! The large outputs (the snapshot, `schema.ts`) are written table by table,
//! and tables do not depend on each other: on a large schema the second half
//! goes to a second thread. Threads never decide output: the results are
//! joined in the list's order.

/// `items.iter().map(f)`, the second half on another thread when there are
/// enough items to be worth it; the order is kept.
pub fn in_halves<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    const WORTH_A_THREAD: usize = 64;
    if items.len() < WORTH_A_THREAD {
        return items.iter().map(&f).collect();
    }
    let (first, second) = items.split_at(items.len() / 2);
    std::thread::scope(|scope| {
        let later = scope.spawn(|| second.iter().map(&f).collect::<Vec<R>>());
        let mut out: Vec<R> = first.iter().map(&f).collect();
        match later.join() {
            Ok(later) => out.extend(later),
            // A panic there is a bug; doing the work here reports it as one.
            Err(_) => out.extend(second.iter().map(&f)),
        }
        out
    })
}
