# workerd config of bench/run's `workerd` baseline: one Worker whose fetch handler sends each
# /rooms/broadcast/{name} upgrade to the Durable Object named {name}, which relays with the hibernatable
# WebSocket API (worker.mjs). The socket has no address here: bench/run gives it on the command line,
#   workerd serve config.capnp --socket-addr http=127.0.0.1:PORT
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .broadcastWorker) ],
  sockets = [ (name = "http", http = (), service = "main") ],
);

const broadcastWorker :Workerd.Worker = (
  compatibilityDate = "2026-11-01",
  modules = [ (name = "worker.mjs", esModule = embed "worker.mjs") ],
  durableObjectNamespaces = [ (className = "BroadcastRoom", uniqueKey = "roomactors-bench-broadcast") ],
  # The rooms store nothing; in memory, so a run leaves no files behind.
  durableObjectStorage = (inMemory = void),
  bindings = [ (name = "ROOMS", durableObjectNamespace = "BroadcastRoom") ],
);
