/**
 * Module and Parameter (src/nn/module.ts), as torch.nn.Module: registration by property,
 * dotted names and their order, shared parameters, state dicts (round trip, errors, strict),
 * buffers, train/eval, zeroGrad, freezing, apply, numParameters, to() with tied weights, and
 * the printed tree.
 */
import { describe, expect, it } from 'vitest';

import { arange, manualSeed, nn, randn, tensor, Tensor, zeros } from '../../src/index.js';
import { errorOf, expectClose, expectEqual } from '../helpers.js';

/** A two-level module: enc (Linear 3→4, LayerNorm 4), a bare Parameter `scale`, head (Linear 4→2). */
class Encoder extends nn.Module {
  fc = new nn.Linear(3, 4);
  norm = new nn.LayerNorm(4);
  forward(x: Tensor): Tensor {
    return this.norm.forward(this.fc.forward(x)).relu();
  }
}
class Net extends nn.Module {
  enc = new Encoder();
  scale = new nn.Parameter(tensor([2]));
  head = new nn.Linear(4, 2);
  drop = new nn.Dropout(0.5);
  /** private: not registered */
  _cache = new nn.Linear(9, 9);
  notAModule = { weight: new nn.Parameter(tensor([1])) };
  forward(x: Tensor): Tensor {
    return this.head.forward(this.drop.forward(this.enc.forward(x))).mul(this.scale);
  }
}

const NET_NAMES = ['scale', 'enc.fc.weight', 'enc.fc.bias', 'enc.norm.weight', 'enc.norm.bias', 'head.weight', 'head.bias'];

describe('parameter registration and names', () => {
  it('namedParameters: own parameters first, then submodules depth-first in declaration order, dotted names', () => {
    const net = new Net();
    expect([...net.namedParameters()].map(([k]) => k)).toEqual(NET_NAMES);
    expect([...net.namedParameters('model')].map(([k]) => k)).toEqual(NET_NAMES.map((k) => `model.${k}`));
    expect([...net.namedModules()].map(([k]) => k)).toEqual(['', 'enc', 'enc.fc', 'enc.norm', 'head', 'drop']);
    expect([...net.namedChildren()].map(([k]) => k)).toEqual(['enc', 'head', 'drop']);
    expect(net.parameters().every((p) => p instanceof nn.Parameter && p.requiresGrad)).toBe(true);
  });

  it('a parameter shared by two modules, or a module reachable under two names, appears once', () => {
    class Shared extends nn.Module {
      a = new nn.Linear(2, 3);
      b = new nn.Linear(3, 2, { bias: false });
      c: nn.Linear;
      constructor() {
        super();
        this.c = this.a; // the same module under a second name
        (this.b as unknown as { extra: nn.Parameter }).extra = this.a.weight; // the same Parameter registered twice
      }
    }
    const s = new Shared();
    expect([...s.namedParameters()].map(([k]) => k)).toEqual(['a.weight', 'a.bias', 'b.weight']);
    expect(s.parameters().filter((p) => p === s.a.weight)).toHaveLength(1);
    expect(s.numParameters()).toBe(6 + 3 + 6);
    // the state dict, like torch's, names every path
    expect(Object.keys(s.stateDict())).toEqual(['a.weight', 'a.bias', 'b.weight', 'b.extra', 'c.weight', 'c.bias']);
  });

  it('numParameters counts elements, optionally only trainable ones', () => {
    const net = new Net();
    const all = 1 + (12 + 4) + (4 + 4) + (8 + 2);
    expect(net.numParameters()).toBe(all);
    net.enc.requiresGrad_(false);
    expect(net.numParameters({ trainableOnly: true })).toBe(1 + 8 + 2);
    expect(net.numParameters()).toBe(all);
  });
});

describe('stateDict and loadStateDict', () => {
  it('round-trips: values are copied into the parameters (not aliased), cast to their dtype', () => {
    manualSeed(0);
    const a = new Net();
    manualSeed(1);
    const b = new Net();
    const x = randn([5, 3]);
    a.eval();
    b.eval();
    expect(a.forward(x).equal(b.forward(x))).toBe(false);
    const sd = a.stateDict();
    expect(Object.keys(sd)).toEqual(NET_NAMES);
    const res = b.loadStateDict(sd);
    expect(res).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expectEqual(b.forward(x), a.forward(x), 'outputs after loading');
    // b's parameters are not a's tensors: changing a afterwards leaves b alone
    const before = b.head.weight.clone();
    a.head.weight.detach().fill_(3);
    expectEqual(b.head.weight, before, 'b.head.weight after changing a');
    // a state dict shares storage with its module (like torch's state_dict())
    expectEqual(sd['head.weight']!, new Float32Array(8).fill(3), 'state dict aliases the parameter');
    // float64 tensors are cast to the module's float32; a Map works too
    const sd64 = new Map(Object.entries(a.stateDict()).map(([k, t]) => [k, t.to('float64')]));
    b.loadStateDict(sd64);
    expect(b.head.weight.dtype).toBe('float32');
    expectEqual(b.head.weight, new Float32Array(8).fill(3), 'after loading float64');
  });

  it('lists every missing key, unexpected key and shape mismatch in one error', () => {
    const net = new Net();
    const sd = net.stateDict();
    delete sd['enc.fc.bias'];
    delete sd['scale'];
    sd['enc.extra.weight'] = zeros([1]);
    sd['head.weight'] = zeros([2, 5]);
    const msg = errorOf(() => net.loadStateDict(sd));
    expect(msg).toMatch(/^Error\(s\) in loading state_dict for Net:/);
    expect(msg).toContain('Missing key(s) in state_dict: "scale", "enc.fc.bias".');
    expect(msg).toContain('Unexpected key(s) in state_dict: "enc.extra.weight".');
    expect(msg).toContain('head.weight: copying a param with shape [2,5] from checkpoint, the shape in the current model is [2,4]');
    expect(() => net.loadStateDict(sd)).toThrow(nn.StateDictError);
  });

  it('nothing is copied when loading fails', () => {
    const net = new Net();
    const before = net.enc.fc.weight.clone();
    const sd = new Net().stateDict();
    sd['head.bias'] = zeros([7]);
    expect(() => net.loadStateDict(sd)).toThrow(/head\.bias/);
    expectEqual(net.enc.fc.weight, before, 'enc.fc.weight untouched');
  });

  it('strict: false loads what matches and returns the missing and unexpected keys; a shape mismatch is still an error', () => {
    const net = new Net();
    const res = net.loadStateDict({ 'head.bias': tensor([5, 6]), 'other.weight': zeros([1]) }, { strict: false });
    expect(res.unexpectedKeys).toEqual(['other.weight']);
    expect(res.missingKeys).toEqual(NET_NAMES.filter((k) => k !== 'head.bias'));
    expectEqual(net.head.bias!, [5, 6], 'head.bias');
    expect(errorOf(() => net.loadStateDict({ 'head.bias': zeros([3]) }, { strict: false }))).toMatch(/Size mismatch: head\.bias/);
  });

  it('buffers: persistent ones are in the state dict, non-persistent ones are not; to() keeps integer buffers integer', () => {
    class WithBuffers extends nn.Module {
      lin = new nn.Linear(2, 2);
      declare position_ids: Tensor;
      declare running: Tensor;
      declare scratch: Tensor;
      constructor() {
        super();
        this.registerBuffer('position_ids', arange(0, 4, 1, { dtype: 'int32' }).unsqueeze(0));
        this.registerBuffer('running', zeros([2]));
        this.registerBuffer('scratch', zeros([3]), false);
      }
    }
    const m = new WithBuffers();
    // torch's order: a module's own parameters, then its own buffers, then its children
    expect(Object.keys(m.stateDict())).toEqual(['position_ids', 'running', 'lin.weight', 'lin.bias']);
    expect([...m.namedBuffers()].map(([k]) => k)).toEqual(['position_ids', 'running', 'scratch']);
    expect(m.parameters()).toHaveLength(2);
    m.to('float64');
    expect(m.position_ids.dtype).toBe('int32');
    expect(m.running.dtype).toBe('float64');
    expect(m.stateDict()['running']!.dtype).toBe('float64');
    const sd = m.stateDict();
    sd['running'] = tensor([1, 2]);
    m.loadStateDict(sd);
    expectEqual(m.running, [1, 2], 'buffer loaded');
    expect(errorOf(() => m.registerBuffer('a.b', null))).toMatch(/invalid buffer name 'a\.b'/);
  });
});

describe('modes, gradients, freezing', () => {
  it('train() and eval() propagate to every submodule and change Dropout', () => {
    const net = new Net();
    expect([...net.modules()].every((m) => m.training)).toBe(true);
    expect(net.eval()).toBe(net);
    expect([...net.modules()].every((m) => !m.training)).toBe(true);
    const x = randn([4, 3]);
    expectEqual(net.forward(x), net.forward(x), 'eval is deterministic');
    net.train();
    expect(net.drop.training && net.enc.norm.training).toBe(true);
    net.train(false);
    expect(net.enc.fc.training).toBe(false);
  });

  it('zeroGrad clears every gradient', () => {
    const net = new Net().eval();
    net.forward(randn([4, 3])).sum().backward();
    expect(net.parameters().every((p) => p.grad !== null)).toBe(true);
    net.zeroGrad();
    expect(net.parameters().every((p) => p.grad === null)).toBe(true);
  });

  it('gradients accumulate across backward calls until zeroGrad', () => {
    const net = new Net().eval();
    const x = randn([4, 3]);
    net.forward(x).sum().backward();
    const g1 = net.head.weight.grad!.clone();
    net.forward(x).sum().backward();
    expectClose(net.head.weight.grad!, g1.mul(2), { rtol: 1e-6, atol: 1e-7, what: 'accumulated grad' });
  });

  it('requiresGrad_(false) freezes a submodule: its parameters get no gradient, the rest still do', () => {
    const net = new Net().eval();
    net.enc.requiresGrad_(false);
    expect(net.enc.parameters().every((p) => !p.requiresGrad)).toBe(true);
    net.forward(randn([4, 3])).sum().backward();
    for (const [k, p] of net.namedParameters()) {
      if (k.startsWith('enc.')) expect(p.grad, k).toBeNull();
      else expect(p.grad, k).not.toBeNull();
    }
    net.enc.requiresGrad_(true);
    net.forward(randn([4, 3])).sum().backward();
    expect(net.enc.fc.weight.grad).not.toBeNull();
  });

  it('apply() visits children before their parent, every module once per path', () => {
    const net = new Net();
    const visited: string[] = [];
    net.apply((m) => visited.push(m.constructor.name));
    expect(visited).toEqual(['Linear', 'LayerNorm', 'Encoder', 'Linear', 'Dropout', 'Net']);
    // the usual use: re-initialise
    net.apply((m) => {
      if (m instanceof nn.Linear) nn.init.constant_(m.weight, 0.5);
    });
    expectEqual(net.head.weight, new Float32Array(8).fill(0.5), 'head.weight re-initialised');
    expectEqual(net.enc.fc.weight, new Float32Array(12).fill(0.5), 'enc.fc.weight re-initialised');
  });
});

describe('to()', () => {
  it('converts every parameter and keeps requiresGrad', () => {
    const net = new Net();
    net.enc.fc.bias!.requiresGrad = false;
    const before = net.head.weight.toTypedArray();
    net.to('float64');
    expect(net.parameters().every((p) => p.dtype === 'float64' && p instanceof nn.Parameter)).toBe(true);
    expect(net.enc.fc.bias!.requiresGrad).toBe(false);
    expect(net.head.weight.requiresGrad).toBe(true);
    expectEqual(net.head.weight, before, 'values kept');
    expect(net.eval().forward(randn([2, 3], { dtype: 'float64' })).dtype).toBe('float64');
  });

  it("BertForMaskedLM: to('float64') keeps decoder.weight tied to word_embeddings.weight (and the decoder bias)", () => {
    manualSeed(0);
    const config = new nn.BertConfig({ vocabSize: 20, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 16, maxPositionEmbeddings: 16 });
    const m = new nn.BertForMaskedLM(config);
    const tied = () => m.cls.predictions.decoder.weight === m.bert.embeddings.word_embeddings.weight;
    expect(tied()).toBe(true);
    m.to('float64');
    expect(tied()).toBe(true);
    expect(m.cls.predictions.decoder.bias).toBe(m.cls.predictions.bias);
    expect(m.bert.embeddings.word_embeddings.weight.dtype).toBe('float64');
    expect(m.bert.encoder.layer.at(0)).toBe((m.bert.encoder.layer as unknown as Record<string, nn.BertLayer>)['0']);
    // the tie is real: an update through one name is seen through the other
    m.bert.embeddings.word_embeddings.weight.detach().fill_(0.25);
    expectEqual(m.cls.predictions.decoder.weight, new Float64Array(160).fill(0.25), 'decoder.weight after writing the embedding');
    // parameters are deduplicated, the state dict has both names
    const names = [...m.namedParameters()].map(([k]) => k);
    expect(names).toContain('bert.embeddings.word_embeddings.weight');
    expect(names).not.toContain('cls.predictions.decoder.weight');
    expect(Object.keys(m.stateDict())).toContain('cls.predictions.decoder.weight');
  });
});

describe('toString', () => {
  it('prints the module tree as PyTorch does', () => {
    const net = new Net();
    expect(net.toString()).toBe([
      'Net(',
      '  (enc): Encoder(',
      '    (fc): Linear(inFeatures=3, outFeatures=4, bias=true)',
      '    (norm): LayerNorm([4], eps=0.00001)',
      '  )',
      '  (head): Linear(inFeatures=4, outFeatures=2, bias=true)',
      '  (drop): Dropout(p=0.5)',
      ')',
    ].join('\n'));
  });

  it('a module with an extra repr and children prints the extra repr on its own line', () => {
    const mha = new nn.MultiheadAttention(4, 2);
    expect(mha.toString()).toBe('MultiheadAttention(\n  embedDim=4, numHeads=2\n  (out_proj): Linear(inFeatures=4, outFeatures=4, bias=true)\n)');
  });
});
