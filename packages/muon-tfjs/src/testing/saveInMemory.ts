import * as tf from '@tensorflow/tfjs-core';

/** The parts of a tfjs-layers model that `saveInMemory` uses. */
interface SavableModel {
  save(handler: tf.io.IOHandler, config?: tf.io.SaveConfig): Promise<tf.io.SaveResult>;
}

/**
 * Saves a model into memory, as `model.save(..., config)` would to a file, and returns the
 * artifacts for `tf.io.fromMemory` (then `loadLayersModel`).
 */
export async function saveInMemory(model: SavableModel, config?: tf.io.SaveConfig): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    saved = artifacts;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }), config);
  if (saved === undefined) throw new Error('model.save wrote no artifacts');
  return saved;
}
