import { Inject, Injectable } from '@nestjs/common';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { DEFAULT_MATCHING_POLICY, loadMatchingPolicy, type MatchingPolicy } from './matching-policy.js';

/** The matching policy (tolerances and expected-document windows) read at start from HUB_POLICIES_DIR/matching/matching.json. */
@Injectable()
export class MatchingPolicyStore {
  private policy: MatchingPolicy = DEFAULT_MATCHING_POLICY;
  constructor(@Inject(HUB_CONFIG) private readonly cfg: HubConfig) {}

  async load(): Promise<MatchingPolicy> {
    this.policy = await loadMatchingPolicy(this.cfg.policiesDir);
    return this.policy;
  }

  current(): MatchingPolicy {
    return this.policy;
  }
}
