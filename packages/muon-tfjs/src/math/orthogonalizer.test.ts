import { describeOrthogonalizerContract } from '../testing/orthogonalizerContract.js';
import { newtonSchulzEach } from './orthogonalizer.js';

// The reference kernel meets the contract at the plain iteration's fp32 tolerance (see newtonSchulz.test.ts).
describeOrthogonalizerContract('newtonSchulzEach', () => newtonSchulzEach, 1e-5);
