//! One engine instance: a store with a memory limit and an epoch deadline, the typed
//! exports, and the handle of the bundle it has loaded.
use wasmtime::{Memory, Store, StoreLimitsBuilder, TypedFunc};

use crate::module::{EngineModule, Limits, MAX_MEMORY};
use crate::RuntimeError;

/// Epoch ticks (see [`super::TICK`]) one call may run before it is interrupted.
pub const DEADLINE_TICKS: u64 = 10;

/// A live instance with a loaded bundle.
#[allow(missing_debug_implementations)]
pub struct Instance {
    store: Store<Limits>,
    memory: Memory,
    alloc: TypedFunc<u32, u32>,
    free: TypedFunc<(u32, u32), ()>,
    load: TypedFunc<(u32, u32, u32, u32), i32>,
    last_error: TypedFunc<(), u64>,
    decide: TypedFunc<(i32, u32, u32), u64>,
    /// `vitrine_plan`, absent from modules older than the campaign planner.
    plan: Option<TypedFunc<(i32, u32, u32), u64>>,
    info: TypedFunc<i32, u64>,
    handle: i32,
    /// Which deployment (module + bundle) this instance serves.
    pub generation: u64,
}

impl Instance {
    /// Instantiates `module` and loads `bundle` (verified by the guest against `key`).
    pub fn new(
        module: &EngineModule,
        bundle: &[u8],
        key: &[u8; 32],
        memory_limit: usize,
        generation: u64,
    ) -> Result<Instance, RuntimeError> {
        let limits = StoreLimitsBuilder::new().memory_size(memory_limit.min(MAX_MEMORY)).instances(1).trap_on_grow_failure(true).build();
        let mut store = Store::new(module.pre.module().engine(), Limits(limits));
        store.limiter(|l| l);
        store.set_epoch_deadline(DEADLINE_TICKS);
        let instance = module.pre.instantiate(&mut store)?;
        let version: TypedFunc<(), u32> = instance.get_typed_func(&mut store, "vitrine_abi_version")?;
        let v = version.call(&mut store, ())?;
        if v != 1 {
            return Err(RuntimeError::AbiVersion(v));
        }
        let memory = instance.get_memory(&mut store, "memory").ok_or(RuntimeError::Bounds)?;
        let mut me = Instance {
            alloc: instance.get_typed_func(&mut store, "vitrine_alloc")?,
            free: instance.get_typed_func(&mut store, "vitrine_free")?,
            load: instance.get_typed_func(&mut store, "vitrine_load")?,
            last_error: instance.get_typed_func(&mut store, "vitrine_last_error")?,
            decide: instance.get_typed_func(&mut store, "vitrine_decide")?,
            plan: instance.get_typed_func(&mut store, "vitrine_plan").ok(),
            info: instance.get_typed_func(&mut store, "vitrine_info")?,
            memory,
            store,
            handle: 0,
            generation,
        };
        me.store.set_epoch_deadline(DEADLINE_TICKS);
        let (bp, bl) = me.put(bundle)?;
        let (kp, kl) = me.put(key)?;
        let handle = me.load.call(&mut me.store, (bp, bl, kp, kl))?;
        me.free.call(&mut me.store, (bp, bl))?;
        me.free.call(&mut me.store, (kp, kl))?;
        if handle <= 0 {
            let packed = me.last_error.call(&mut me.store, ())?;
            let json = me.take(packed)?;
            let body = match crate::reply::<vitrine_engine::ErrorBody>(&json) {
                Ok(body) | Err(body) => body,
            };
            return Err(RuntimeError::BundleRefused { code: body.code, message: body.message });
        }
        me.handle = handle;
        Ok(me)
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(u32, u32), RuntimeError> {
        let len = u32::try_from(bytes.len()).map_err(|_| RuntimeError::Bounds)?;
        if len == 0 {
            return Ok((0, 0));
        }
        let ptr = self.alloc.call(&mut self.store, len)?;
        if ptr == 0 {
            return Err(RuntimeError::Trap("guest allocation failed".into()));
        }
        self.memory.write(&mut self.store, ptr as usize, bytes).map_err(|_| RuntimeError::Bounds)?;
        Ok((ptr, len))
    }

    fn take(&mut self, packed: u64) -> Result<Vec<u8>, RuntimeError> {
        let (ptr, len) = ((packed >> 32) as u32, packed as u32);
        if len == 0 {
            return Ok(Vec::new());
        }
        let mut out = vec![0u8; len as usize];
        self.memory.read(&self.store, ptr as usize, &mut out).map_err(|_| RuntimeError::Bounds)?;
        self.free.call(&mut self.store, (ptr, len))?;
        Ok(out)
    }

    /// Decides a JSON request; the guest's response or error JSON. A trap, deadline or
    /// memory-limit hit returns `Err` and the caller must drop the instance.
    pub fn decide(&mut self, request: &[u8]) -> Result<Vec<u8>, RuntimeError> {
        self.store.set_epoch_deadline(DEADLINE_TICKS);
        let (rp, rl) = self.put(request)?;
        let packed = self.decide.call(&mut self.store, (self.handle, rp, rl))?;
        self.free.call(&mut self.store, (rp, rl))?;
        self.take(packed)
    }

    /// Decides a JSON plan request (a trusted profile in place of a snapshot): only for
    /// data the host read itself. Errors like [`Instance::decide`].
    pub fn plan(&mut self, request: &[u8]) -> Result<Vec<u8>, RuntimeError> {
        let plan = self.plan.clone().ok_or_else(|| RuntimeError::Module("this engine module has no `vitrine_plan` export".into()))?;
        self.store.set_epoch_deadline(DEADLINE_TICKS);
        let (rp, rl) = self.put(request)?;
        let packed = plan.call(&mut self.store, (self.handle, rp, rl))?;
        self.free.call(&mut self.store, (rp, rl))?;
        self.take(packed)
    }

    /// The loaded bundle's summary JSON.
    pub fn info(&mut self) -> Result<Vec<u8>, RuntimeError> {
        self.store.set_epoch_deadline(DEADLINE_TICKS);
        let packed = self.info.call(&mut self.store, self.handle)?;
        self.take(packed)
    }
}
