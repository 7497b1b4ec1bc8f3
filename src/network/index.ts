/** The network module: what corrald wires into container start/stop (see docs/networking.md). */
export { BridgeNetwork, type Attachment, type BridgeNetworkOptions, type NetworkInfo, type RepairReport } from './bridge.js';
export { NetnsStore } from './netns.js';
export { nsenterNetArgs, unshareInNetnsArgs, NAMESPACES_WITHOUT_NET } from './argv.js';
export { Ipam, macFor, type Lease, type LeaseFile } from './ipam.js';
export { parsePortMapping, parsePortMappings, formatPortMapping, formatHostPort, mappingsClash, ANY_HOST_IP, type PortMapping, type Protocol } from './ports.js';
export { type PublishedPort } from './port-store.js';
export { chooseSubnet, DEFAULT_SUBNET_CANDIDATES } from './subnet.js';
export { ProcSysctl, MemorySysctl, type Sysctl } from './sysctl.js';
export { NetworkRegistry, DEFAULT_NETWORK, RESERVED_NETWORK_NAMES, type NetworkConfig, type NetworkRegistryOptions } from './registry.js';
export { readListeners, listenerBlocks, type Listener } from './listeners.js';
export { type AttachOptions } from './bridge.js';
export { plugNamespace, type PlugRequest } from './plug.js';
export { SocketPortHolder, type PortHolder } from './port-holder.js';
