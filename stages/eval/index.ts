import type { AnyStageDefinition } from '../core/stage.js';
import { evaluateJudgeStage } from './evaluate-judge-stage.js';
import { evaluateProxyGoldStage } from './evaluate-proxy-gold-stage.js';
import { evaluateRankingStage } from './evaluate-ranking-stage.js';
import { evaluateRewardModelStage } from './evaluate-reward-model-stage.js';
import { calibrateProxyStage } from './calibrate-proxy-stage.js';

/** Stages of this concern, joined by stages/registry.ts. */
export const evalStages: AnyStageDefinition[] = [evaluateRankingStage, evaluateRewardModelStage, evaluateJudgeStage, evaluateProxyGoldStage];

// Paper 004's proxy-quality control (issue 12).
evalStages.push(calibrateProxyStage);
