//! The planner's allocation on seeded instances: every constraint holds, and the optimal
//! allocation is checked against an exact LP.
mod instance;
mod lp;
mod optimal;
