/**
 * muon-tfjs-harness: what every performance script (`npm run bench:*` in packages/bench,
 * `npm run bench:playground` in packages/playground) shares: its command line, parsed strictly
 * before anything is measured, and the description of the machine printed above its tables and
 * stored in its JSON. Node-only; `muon-tfjs-harness/median` is the part browser pages may import.
 */
export { commandLine, parseCommandLine, type CommandLineSpec, type ParsedCommandLine } from './commandLine.js';
export { machineInfo, printMachine, PEAK_GFLOPS, type MachineInfo } from './machine.js';
export { median } from './median.js';
