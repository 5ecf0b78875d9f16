import * as tf from '@tensorflow/tfjs-core';
import { scheduleValue, type Scheduled } from 'muon-tfjs';

/**
 * SGD with momentum (`tf.train.momentum`: v ← μv + g, p ← p − lr·v) whose learning rate follows a
 * schedule, so that SGD trains on the protocol's schedule like the library's optimizers: the rate
 * for the step after t completed steps is `scheduleValue(schedule, t)`, set before the step.
 */
export class ScheduledMomentumOptimizer extends tf.MomentumOptimizer {
  private readonly schedule: Scheduled;

  constructor(schedule: Scheduled, momentum: number) {
    super(scheduleValue(schedule, 0), momentum);
    this.schedule = schedule;
  }

  override applyGradients(variableGradients: Parameters<tf.MomentumOptimizer['applyGradients']>[0]): void {
    this.setLearningRate(scheduleValue(this.schedule, this.iterations));
    super.applyGradients(variableGradients);
  }
}
