/**
 * The OTLP export's entry point for the layers above (control files, CLI):
 * its settings and status on the control side, and the offline converter.
 * Owns nothing but the list of what is public here.
 */

export {
  exportRunning, exportStatusText, readEndpoint, readRateLimit, readSampler, readServiceName, setEndpoint, setRateLimit,
  setSampler, setServiceName, tracesUrl,
} from './exporter.js';
