/**
 * Lesson 01 — autograd by hand.
 *
 * Logistic regression on one example: ŷ = σ(θ·x + b), with the binary cross-entropy
 *
 *     ℓ = −[ y·log ŷ + (1 − y)·log(1 − ŷ) ]
 *
 * Calculus gives the gradient in closed form. With z = θ·x + b and σ'(z) = ŷ(1 − ŷ):
 *
 *     ∂ℓ/∂ŷ = −y/ŷ + (1 − y)/(1 − ŷ)   ⇒   ∂ℓ/∂z = ŷ − y
 *     ∂ℓ/∂θ = (ŷ − y)·x,    ∂ℓ/∂b = ŷ − y
 *
 * Autograd derives the same numbers by walking the graph backwards, one local derivative
 * per op (the chain rule). We check both, then let gradcheck compare with finite
 * differences.
 *
 * Run: npx tsx examples/01-autograd-by-hand.ts
 */
import { gradcheck, manualSeed, randn, tensor, type Tensor } from '../src/index.js';

manualSeed(0);
const x = randn([3], { dtype: 'float64' }); // one example with 3 features
const y = 1; // its label
const theta = randn([3], { dtype: 'float64', requiresGrad: true });
const b = tensor(0.5, { dtype: 'float64', requiresGrad: true });

function loss(theta: Tensor, b: Tensor): Tensor {
  const yHat = theta.mul(x).sum().add(b).sigmoid(); // ŷ = σ(θ·x + b)
  return yHat.log().mul(y).add(yHat.neg().add(1).log().mul(1 - y)).neg(); // ℓ
}

const l = loss(theta, b);
l.backward(); // fills theta.grad and b.grad

const yHat = theta.detach().mul(x).sum().add(b.detach()).sigmoid().item();
const closedTheta = x.mul(yHat - y); // (ŷ − y)·x
const closedB = yHat - y;

console.log('loss ℓ              =', l.item().toFixed(6));
console.log('autograd  ∂ℓ/∂θ     =', theta.grad!.toString());
console.log('by hand   (ŷ − y)·x =', closedTheta.toString());
console.log('autograd  ∂ℓ/∂b     =', b.grad!.item().toFixed(6), '  by hand ŷ − y =', closedB.toFixed(6));

const agree = theta.grad!.allclose(closedTheta, 1e-12, 1e-12) && Math.abs(b.grad!.item() - closedB) < 1e-12;
console.log(agree ? '✓ autograd equals the closed form' : '✗ mismatch');
console.log('gradcheck (central differences):', gradcheck(loss, [theta, b]));
if (!agree) process.exitCode = 1;
