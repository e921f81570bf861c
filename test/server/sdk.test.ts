// The official `openai` SDK against `tessera serve` with local worker processes.
import { defineSdkSuite } from './sdk-suite.js';
import { startTestServer } from './helpers.js';

defineSdkSuite('openai SDK against tessera serve (local workers)', () => startTestServer());
