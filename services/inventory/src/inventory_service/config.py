from taquilla_platform.settings import (
    AuthSettings,
    BrokerSettings,
    DatabaseSettings,
    GrpcServerSettings,
    HttpSettings,
    ServiceSettings,
    settings_config,
)


class Settings(ServiceSettings):
    model_config = settings_config("INVENTORY_")

    db: DatabaseSettings
    broker: BrokerSettings = BrokerSettings()
    auth: AuthSettings  # staff endpoints (blocks) verify the gateway's access tokens
    http: HttpSettings = HttpSettings(port=8002)
    grpc: GrpcServerSettings = GrpcServerSettings(port=50051)
    max_hold_ttl_seconds: int = 3600  # longest a hold may live from one Hold or Extend call
    hold_expiry_interval_seconds: float = 1.0
    hold_expiry_batch_size: int = 200
    waitlist_offer_ttl_seconds: int = 900  # how long the head of a waitlist has to buy what was offered
    waitlist_interval_seconds: float = 1.0
    watch_poll_seconds: float = 2.0  # a live seat map re-reads at least this often (changes from other replicas)
    watch_coalesce_seconds: float = 0.05  # changes within this pause go out as one update
    # The public availability answer (what storefronts poll) is read from the database at most once per
    # session and this many seconds per process, however many browsers ask; 0 reads it every time.
    availability_cache_seconds: float = 1.0
    # The gRPC process: its own connections for Hold (besides db.pool_size for every other call), and
    # whether several gRPC processes of one host may share grpc.port (SO_REUSEPORT, Linux; the kernel spreads
    # client connections over them, so use it with clients that open several connections).
    grpc_hold_connections: int = 20
    grpc_reuse_port: bool = False
