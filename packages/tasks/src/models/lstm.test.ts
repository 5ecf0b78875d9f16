import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildLstm, LSTM_DEFAULT } from './lstm.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('buildLstm', () => {
  it('returns next-token logits [batch, time, vocab] and has the parameters counted by hand', () => {
    // vocab 83, embedding 64, 128 units: embedding 83·64 = 5,312; LSTM input kernel 64·4·128 =
    // 32,768, recurrent kernel 128·512 = 65,536, bias 512; head 128·83 + 83 = 10,707.
    const model = buildLstm({ ...LSTM_DEFAULT, vocabSize: 83 });
    expect(model.countParams()).toBe(5312 + 32768 + 65536 + 512 + 10707);
    expect(model.trainableWeights.map((w) => [w.originalName, w.shape])).toEqual([
      ['token_embedding/embeddings', [83, 64]],
      ['lstm/kernel', [64, 512]],
      ['lstm/recurrent_kernel', [128, 512]],
      ['lstm/bias', [512]],
      ['lm_head/kernel', [128, 83]],
      ['lm_head/bias', [83]],
    ]);
    const ids = tf.zeros([2, LSTM_DEFAULT.sequenceLength], 'int32');
    const logits = model.predict(ids) as tf.Tensor;
    expect(logits.shape).toEqual([2, LSTM_DEFAULT.sequenceLength, 83]);
    tf.dispose([ids, logits]);
    model.dispose();
  });
});
