/**
 * tensorgrad.peft — parameter-efficient fine-tuning: freezing by name, BitFit, LoRA and
 * bottleneck adapters, saved in HuggingFace peft's folder layout.
 *
 *   import { peft } from 'tensorgrad';
 *   peft.applyLora(model, { r: 8, loraAlpha: 16, modulesToSave: ['classifier'] });
 *   peft.printTrainableParameters(model);
 */
export {
  freeze, unfreeze, matchParameters, globToRegExp, trainableParameters, countParameters, formatTrainableParameters,
  printTrainableParameters, countGraphNodes,
} from './freeze.js';
export type { ParameterCount } from './freeze.js';
export {
  LoraLinear, applyLora, loraConfig, defaultLoraTargets, loraLayers, mergeLora, unmergeLora, mergeAndUnload, getLoraConfig,
} from './lora.js';
export type { LoraConfig, LoraBias, LoraResult } from './lora.js';
export {
  BottleneckAdapter, AdapterLinear, applyAdapters, adapterConfig, defaultAdapterTargets, applyBitFit, truncNormal_,
  getAdapterConfig,
} from './adapter.js';
export type { AdapterConfig, AdapterActivation, BitFitConfig } from './adapter.js';
export { peftState } from './inject.js';
export type { PeftState } from './inject.js';
export {
  savePeftAdapter, loadPeftAdapter, adapterStateDict, adapterFiles, adapterConfigJSON, readAdapterConfig, isAdapterDir, adapterBasePath,
  ADAPTER_CONFIG_NAME, ADAPTER_WEIGHTS_NAME,
} from './io.js';
export { applyPeft, checkPeftOptions, savePeftRun, loadWithAdapter, resolveAdapterBase, savesAdapter, splitList, peftRunFiles, PEFT_METHODS } from './setup.js';
export type { PeftOptions, PeftMethod, PeftSummary, PeftRunFiles, FileMap } from './setup.js';
