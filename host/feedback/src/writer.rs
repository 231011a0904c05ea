//! The single writer: one thread owns the store; requests queue on a bounded channel and
//! are committed in groups (every job waiting when a commit starts shares it), so many
//! concurrent posts cost one fsync. A job is answered only after its commit is durable.
use tokio::sync::{mpsc, oneshot};

use crate::event::{Event, LoggedDecision, Outcome, Sale};
use crate::{FeedbackError, FeedbackStore};

/// Jobs one commit takes at most.
pub const GROUP: usize = 512;

enum Job {
    Events(Vec<Event>, Vec<Sale>, Vec<LoggedDecision>, oneshot::Sender<Result<Vec<Outcome>, String>>),
    Decision(Box<LoggedDecision>),
}

/// A handle to the writer thread (cheap to clone).
#[derive(Debug, Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

impl Writer {
    /// Starts the writer thread over `store`; it stops when every handle is dropped.
    pub fn spawn(mut store: Box<dyn FeedbackStore>, queue: usize) -> Result<(Writer, std::thread::JoinHandle<()>), FeedbackError> {
        let (tx, mut rx) = mpsc::channel::<Job>(queue.max(1));
        let thread = std::thread::Builder::new()
            .name("vitrine-feedback".into())
            .spawn(move || {
                while let Some(first) = rx.blocking_recv() {
                    let mut jobs = vec![first];
                    while jobs.len() < GROUP {
                        match rx.try_recv() {
                            Ok(j) => jobs.push(j),
                            Err(_) => break,
                        }
                    }
                    let mut events = Vec::new();
                    let mut sales = Vec::new();
                    let mut decisions = Vec::new();
                    let mut replies = Vec::new();
                    for job in jobs {
                        match job {
                            Job::Events(batch, sold, logged, reply) => {
                                replies.push(((events.len(), batch.len()), (sales.len(), sold.len()), reply));
                                events.extend(batch);
                                sales.extend(sold);
                                decisions.extend(logged);
                            }
                            Job::Decision(d) => decisions.push(*d),
                        }
                    }
                    let result = store.write(&events, &sales, &decisions);
                    if let Err(e) = &result {
                        tracing::error!(error = %e, events = events.len(), decisions = decisions.len(), "feedback commit failed");
                    }
                    // The store answers every event, then every sale.
                    let n_events = events.len();
                    for ((start, len), (sale_start, sale_len), reply) in replies {
                        let answer = match &result {
                            Ok(outcomes) => {
                                let mut mine = outcomes.get(start..start + len).map(<[Outcome]>::to_vec).unwrap_or_default();
                                let s = n_events + sale_start;
                                mine.extend(outcomes.get(s..s + sale_len).map(<[Outcome]>::to_vec).unwrap_or_default());
                                Ok(mine)
                            }
                            Err(e) => Err(e.to_string()),
                        };
                        let _ = reply.send(answer);
                    }
                }
            })
            .map_err(|e| FeedbackError::Io(e.to_string()))?;
        Ok((Writer { tx }, thread))
    }

    /// Stores `events` durably; one outcome per event, in order.
    pub async fn events(&self, events: Vec<Event>) -> Result<Vec<Outcome>, FeedbackError> {
        self.write(events, Vec::new(), Vec::new()).await
    }

    /// Stores `events`, `sales` and decisions made elsewhere (edge, browser) in one
    /// durable commit; one outcome per event, then one per sale.
    pub async fn write(&self, events: Vec<Event>, sales: Vec<Sale>, decisions: Vec<LoggedDecision>) -> Result<Vec<Outcome>, FeedbackError> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(Job::Events(events, sales, decisions, reply)).await.map_err(|_| FeedbackError::WriterGone)?;
        answer.await.map_err(|_| FeedbackError::WriterGone)?.map_err(FeedbackError::Io)
    }

    /// Queues a decision to be logged with the next commit (not awaited).
    pub fn decision(&self, decision: LoggedDecision) -> Result<(), FeedbackError> {
        self.tx.try_send(Job::Decision(Box::new(decision))).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => FeedbackError::Io("the feedback queue is full; decision not logged".into()),
            mpsc::error::TrySendError::Closed(_) => FeedbackError::WriterGone,
        })
    }
}
