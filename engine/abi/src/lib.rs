//! The raw ABI face: a handful of exports over linear memory, no imports at all.
//! Every export is documented, with the JSON it takes and returns, in `README.md`.
//!
//! Thin by design: it moves bytes in and out; loading, deciding and the error JSON
//! shape all come from `vitrine_engine::api`.
#![allow(clippy::missing_safety_doc)]

use std::alloc::{alloc, dealloc, Layout};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;

use vitrine_engine::{api, Engine, Error};

/// ABI version; bumped on any incompatible change to an export.
pub const ABI_VERSION: u32 = 1;

static ENGINES: Mutex<Vec<Option<Engine>>> = Mutex::new(Vec::new());
static LAST_ERROR: Mutex<Vec<u8>> = Mutex::new(Vec::new());

fn engines() -> std::sync::MutexGuard<'static, Vec<Option<Engine>>> {
    ENGINES.lock().unwrap_or_else(|p| p.into_inner())
}

/// Hands `bytes` to the host as a packed `(ptr << 32) | len`; the host frees it.
fn leak(bytes: Vec<u8>) -> u64 {
    let len = bytes.len();
    if len == 0 {
        return 0;
    }
    let ptr = Box::into_raw(bytes.into_boxed_slice()) as *mut u8 as usize;
    ((ptr as u64) << 32) | len as u64
}

unsafe fn input<'a>(ptr: u32, len: u32) -> &'a [u8] {
    if len == 0 {
        return &[];
    }
    // SAFETY: the host wrote `len` bytes at `ptr`, inside memory from `vitrine_alloc`.
    unsafe { core::slice::from_raw_parts(ptr as usize as *const u8, len as usize) }
}

fn guard<T>(f: impl FnOnce() -> T, on_panic: impl FnOnce(Error) -> T) -> T {
    // With panic=abort (the Wasm build) a panic traps instead; natively it is caught.
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| on_panic(Error::Internal("panic in the engine".into())))
}

/// Allocates `len` bytes for the host to write an input into. Returns 0 for `len == 0`.
#[no_mangle]
pub extern "C" fn vitrine_alloc(len: u32) -> u32 {
    if len == 0 {
        return 0;
    }
    match Layout::from_size_align(len as usize, 1) {
        // SAFETY: the layout has a non-zero size.
        Ok(layout) => unsafe { alloc(layout) as usize as u32 },
        Err(_) => 0,
    }
}

/// Frees `len` bytes at `ptr`, from `vitrine_alloc` or an output of this module.
#[no_mangle]
pub unsafe extern "C" fn vitrine_free(ptr: u32, len: u32) {
    if ptr == 0 || len == 0 {
        return;
    }
    if let Ok(layout) = Layout::from_size_align(len as usize, 1) {
        // SAFETY: the host returns a block this module allocated with this size, align 1.
        unsafe { dealloc(ptr as usize as *mut u8, layout) }
    }
}

/// The ABI version (1).
#[no_mangle]
pub extern "C" fn vitrine_abi_version() -> u32 {
    ABI_VERSION
}

/// Verifies and loads a signed bundle. Returns a handle > 0, or 0 on error (then
/// `vitrine_last_error` has the error JSON).
#[no_mangle]
pub unsafe extern "C" fn vitrine_load(bundle_ptr: u32, bundle_len: u32, key_ptr: u32, key_len: u32) -> i32 {
    // SAFETY: the host passes buffers it wrote; see `input`.
    let (bundle, key) = unsafe { (input(bundle_ptr, bundle_len), input(key_ptr, key_len)) };
    let result = guard(|| api::load(bundle, key), Err);
    match result {
        Ok(engine) => {
            let mut all = engines();
            let slot = all.iter().position(Option::is_none).unwrap_or_else(|| {
                all.push(None);
                all.len() - 1
            });
            all[slot] = Some(engine);
            slot as i32 + 1
        }
        Err(e) => {
            *LAST_ERROR.lock().unwrap_or_else(|p| p.into_inner()) = api::error_json(&e);
            0
        }
    }
}

/// The error JSON of the last failed `vitrine_load`, packed `(ptr << 32) | len`; the
/// host frees it with `vitrine_free`.
#[no_mangle]
pub extern "C" fn vitrine_last_error() -> u64 {
    leak(LAST_ERROR.lock().unwrap_or_else(|p| p.into_inner()).clone())
}

fn with_engine(handle: i32, f: impl FnOnce(&mut Engine) -> Vec<u8>) -> u64 {
    let mut all = engines();
    let engine = usize::try_from(handle).ok().and_then(|h| h.checked_sub(1)).and_then(|h| all.get_mut(h)).and_then(Option::as_mut);
    let out = match engine {
        Some(e) => guard(|| f(e), |e| api::error_json(&e)),
        None => api::error_json(&Error::Internal(format!("no engine with handle {handle}"))),
    };
    leak(out)
}

/// Decides the JSON request at `(req_ptr, req_len)`. Returns the response JSON or the
/// error JSON, packed `(ptr << 32) | len`; the host frees it with `vitrine_free`.
#[no_mangle]
pub unsafe extern "C" fn vitrine_decide(handle: i32, req_ptr: u32, req_len: u32) -> u64 {
    // SAFETY: the host passes a buffer it wrote; see `input`.
    let request = unsafe { input(req_ptr, req_len) };
    with_engine(handle, |e| api::decide_json(e, request))
}

/// Decides the JSON plan request at `(req_ptr, req_len)`: a host's trusted profile in
/// place of a signed snapshot (the campaign planner, the Spark job). Packed like
/// `vitrine_decide`. A server must never pass untrusted input here.
#[no_mangle]
pub unsafe extern "C" fn vitrine_plan(handle: i32, req_ptr: u32, req_len: u32) -> u64 {
    // SAFETY: the host passes a buffer it wrote; see `input`.
    let request = unsafe { input(req_ptr, req_len) };
    with_engine(handle, |e| api::plan_json(e, request))
}

/// The loaded bundle's summary JSON, packed like `vitrine_decide`.
#[no_mangle]
pub extern "C" fn vitrine_info(handle: i32) -> u64 {
    with_engine(handle, |e| api::info_json(e))
}

/// Resizes the engine's verified-snapshot cache to `entries` (emptying it; 0 disables it).
/// Returns the info JSON (with the new capacity) or the error JSON past the limit,
/// packed like `vitrine_decide`.
#[no_mangle]
pub extern "C" fn vitrine_snapshot_cache(handle: i32, entries: u32) -> u64 {
    with_engine(handle, |e| match e.set_snapshot_cache_entries(u64::from(entries)) {
        Ok(()) => api::info_json(e),
        Err(err) => api::error_json(&err),
    })
}

/// Drops an engine. Returns 1 if the handle existed, 0 otherwise.
#[no_mangle]
pub extern "C" fn vitrine_unload(handle: i32) -> i32 {
    let mut all = engines();
    match usize::try_from(handle).ok().and_then(|h| h.checked_sub(1)).and_then(|h| all.get_mut(h)) {
        Some(slot @ Some(_)) => {
            *slot = None;
            1
        }
        _ => 0,
    }
}
