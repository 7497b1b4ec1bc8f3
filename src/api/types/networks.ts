export type NetworkMode = 'bridge' | 'none' | 'host';
export type PortProtocol = 'tcp' | 'udp';

/** A host port forwarded to a container port (`-p`). `hostIp` 0.0.0.0 is every host address. */
export interface PortBinding {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: PortProtocol;
}

export interface ExposedPort {
  port: number;
  protocol: PortProtocol;
}

/** One network a bridge-mode container joins. */
export interface NetworkEndpointConfig {
  network: string;
  /** Fixed address, or null for the next free one at each start. */
  ip: string | null;
  aliases: string[];
}

/** How a container is networked; validated at create (src/runtime/spec.ts, src/runtime/networking.ts). */
export interface ContainerNetworkConfig {
  mode: NetworkMode;
  /** bridge mode: the networks in order (the first has the default route and the published ports). */
  networks: NetworkEndpointConfig[];
  ports: PortBinding[];
  expose: ExposedPort[];
  publishAll: boolean;
  /** Nameservers for /etc/resolv.conf; empty: the host's, minus loopback ones. */
  dns: string[];
}

/** A running container's interface on one network. */
export interface EndpointSettings {
  network: string;
  bridge: string;
  /** The interface inside the container (`eth0`, `eth1`, …). */
  ifname: string;
  ipAddress: string;
  prefixLen: number;
  gateway: string;
  macAddress: string;
  /** The host side of the veth. */
  hostVeth: string;
  aliases: string[];
}

/** inspect's network section (Docker's NetworkSettings): addresses while running, config otherwise. */
export interface NetworkSettings {
  mode: NetworkMode;
  /** The networks joined while running (empty otherwise), by name. */
  networks: Record<string, EndpointSettings>;
  /** The first network's address, while running. */
  ipAddress: string | null;
  gateway: string | null;
  macAddress: string | null;
  /** The ports in force while running (with `-P`'s host ports); as configured otherwise. */
  ports: PortBinding[];
  /** The container's network namespace file while running (bridge mode). */
  sandboxKey: string | null;
  /** For example that `host` mode shares the host's network stack. */
  warnings: string[];
}

/** POST /v1/networks. */
export interface NetworkCreateRequest {
  name: string;
  /** IPv4 subnet such as 10.89.0.0/16; default: the first free candidate. */
  subnet?: string;
}

/** GET /v1/networks: one per network, the modes `host` and `none` included. */
export interface NetworkSummary {
  name: string;
  /** `bridge` for the default and user-defined networks; `host` and `null` for the modes. */
  driver: 'bridge' | 'host' | 'null';
  bridge: string | null;
  subnet: string | null;
  gateway: string | null;
  createdAt: string | null;
  /** Containers attached now (running). */
  containers: number;
}

/** GET /v1/networks/{name}. */
export interface NetworkInspect extends Omit<NetworkSummary, 'containers'> {
  /** nftables table (family inet) holding the network's NAT and port rules. */
  table: string | null;
  /** Running containers on the network. */
  endpoints: { id: string; name: string; ipAddress: string; macAddress: string; hostVeth: string; aliases: string[] }[];
  /** Containers configured with the network, running or not (they keep `network rm` from removing it). */
  configured: { id: string; name: string }[];
  /** Host ports forwarded into the network. */
  ports: (PortBinding & { container: string; containerIp: string })[];
}
