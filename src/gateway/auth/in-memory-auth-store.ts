import type { ApiKeyRecord, AuthStore, PortfolioMember, RefreshTokenRecord, User, UserAuthState } from '../../persistence/auth-store.types.js';

/**
 * The in-process {@link AuthStore}: maps in memory, lost on restart (users other than the
 * first admin, API keys and refresh tokens must be created again). For unit tests and
 * embedding; `npm start` uses `PostgresAuthStore` (`src/persistence/auth-store.ts`).
 */
export class InMemoryAuthStore implements AuthStore {
  private readonly users = new Map<string, User>();
  private readonly usersByName = new Map<string, string>();
  private readonly refresh = new Map<string, RefreshTokenRecord>();
  private readonly refreshByHash = new Map<string, string>();
  private readonly keys = new Map<string, ApiKeyRecord>();
  private readonly totpSteps = new Map<string, number>();
  /** `portfolioId` → `userId` → member */
  private readonly members = new Map<string, Map<string, PortfolioMember>>();

  createUser(user: User): Promise<void> {
    if (this.usersByName.has(user.username)) return Promise.reject(new Error(`user "${user.username}" exists`));
    this.users.set(user.id, user);
    this.usersByName.set(user.username, user.id);
    return Promise.resolve();
  }

  userByName(username: string): Promise<User | undefined> {
    const id = this.usersByName.get(username);
    return Promise.resolve(id === undefined ? undefined : this.users.get(id));
  }

  userById(id: string): Promise<User | undefined> {
    return Promise.resolve(this.users.get(id));
  }

  listUsers(): Promise<readonly User[]> {
    return Promise.resolve([...this.users.values()]);
  }

  countUsers(): Promise<number> {
    return Promise.resolve(this.users.size);
  }

  setTotp(userId: string, secret: string | undefined, enabled: boolean): Promise<void> {
    const user = this.users.get(userId);
    if (user) this.users.set(userId, { ...user, totpSecret: secret, totpEnabled: enabled && secret !== undefined });
    // a new secret starts afresh; enabling the pending one keeps the step its confirmation used
    if (user?.totpSecret !== secret) this.totpSteps.delete(userId);
    return Promise.resolve();
  }

  setUserDisabled(userId: string, disabled: boolean): Promise<void> {
    const user = this.users.get(userId);
    if (user) this.users.set(userId, { ...user, disabled });
    return Promise.resolve();
  }

  setPasswordHash(userId: string, passwordHash: string): Promise<void> {
    const user = this.users.get(userId);
    if (user) this.users.set(userId, { ...user, passwordHash });
    return Promise.resolve();
  }

  bumpTokenVersion(userId: string): Promise<number | undefined> {
    const user = this.users.get(userId);
    if (!user) return Promise.resolve(undefined);
    const tokenVersion = user.tokenVersion + 1;
    this.users.set(userId, { ...user, tokenVersion });
    return Promise.resolve(tokenVersion);
  }

  userAuthState(userId: string): Promise<UserAuthState | undefined> {
    const user = this.users.get(userId);
    return Promise.resolve(user && { disabled: user.disabled, tokenVersion: user.tokenVersion, role: user.role });
  }

  deleteUser(userId: string): Promise<boolean> {
    const user = this.users.get(userId);
    if (!user) return Promise.resolve(false);
    this.users.delete(userId);
    this.usersByName.delete(user.username);
    this.totpSteps.delete(userId);
    for (const [id, record] of this.refresh) {
      if (record.userId !== userId) continue;
      this.refresh.delete(id);
      this.refreshByHash.delete(record.tokenHash);
    }
    for (const [id, key] of this.keys) if (key.ownerUserId === userId) this.keys.delete(id);
    for (const members of this.members.values()) members.delete(userId);
    return Promise.resolve(true);
  }

  revokeUserRefreshTokens(userId: string, atMs: number): Promise<number> {
    let count = 0;
    for (const [id, record] of this.refresh) {
      if (record.userId !== userId || record.revokedAtMs !== undefined) continue;
      this.refresh.set(id, { ...record, revokedAtMs: atMs });
      count += 1;
    }
    return Promise.resolve(count);
  }

  claimTotpStep(userId: string, step: number): Promise<boolean> {
    const last = this.totpSteps.get(userId);
    if (last !== undefined && last >= step) return Promise.resolve(false);
    this.totpSteps.set(userId, step);
    return Promise.resolve(true);
  }

  saveRefreshToken(record: RefreshTokenRecord): Promise<void> {
    this.refresh.set(record.id, record);
    this.refreshByHash.set(record.tokenHash, record.id);
    this.pruneRefresh(Date.now());
    return Promise.resolve();
  }

  refreshTokenByHash(tokenHash: string): Promise<RefreshTokenRecord | undefined> {
    const id = this.refreshByHash.get(tokenHash);
    return Promise.resolve(id === undefined ? undefined : this.refresh.get(id));
  }

  revokeRefreshToken(id: string, atMs: number, replacedBy?: string): Promise<void> {
    const record = this.refresh.get(id);
    if (record) this.refresh.set(id, { ...record, revokedAtMs: record.revokedAtMs ?? atMs, replacedBy: replacedBy ?? record.replacedBy });
    return Promise.resolve();
  }

  rotateRefreshToken(id: string, atMs: number, next: RefreshTokenRecord): Promise<boolean> {
    // synchronous check and set: no other call can run in between
    const record = this.refresh.get(id);
    if (!record || record.revokedAtMs !== undefined) return Promise.resolve(false);
    this.refresh.set(id, { ...record, revokedAtMs: atMs, replacedBy: next.id });
    this.refresh.set(next.id, next);
    this.refreshByHash.set(next.tokenHash, next.id);
    return Promise.resolve(true);
  }

  revokeRefreshFamily(familyId: string, atMs: number): Promise<void> {
    for (const [id, record] of this.refresh) {
      if (record.familyId === familyId && record.revokedAtMs === undefined) this.refresh.set(id, { ...record, revokedAtMs: atMs });
    }
    return Promise.resolve();
  }

  saveApiKey(record: ApiKeyRecord): Promise<void> {
    this.keys.set(record.id, record);
    return Promise.resolve();
  }

  apiKeyById(id: string): Promise<ApiKeyRecord | undefined> {
    return Promise.resolve(this.keys.get(id));
  }

  apiKeyForAuth(id: string): Promise<{ readonly key: ApiKeyRecord; readonly ownerDisabled: boolean } | undefined> {
    const key = this.keys.get(id);
    return Promise.resolve(key && { key, ownerDisabled: this.users.get(key.ownerUserId)?.disabled ?? true });
  }

  /** Synchronous lookup for the hot path (authenticating every request). */
  apiKeyByIdSync(id: string): ApiKeyRecord | undefined {
    return this.keys.get(id);
  }

  listApiKeys(ownerUserId?: string): Promise<readonly ApiKeyRecord[]> {
    return Promise.resolve([...this.keys.values()].filter((key) => ownerUserId === undefined || key.ownerUserId === ownerUserId));
  }

  revokeApiKey(id: string, atMs: number): Promise<void> {
    const key = this.keys.get(id);
    if (key && key.revokedAtMs === undefined) this.keys.set(id, { ...key, revokedAtMs: atMs });
    return Promise.resolve();
  }

  touchApiKey(id: string, atMs: number): Promise<void> {
    const key = this.keys.get(id);
    if (key) this.keys.set(id, { ...key, lastUsedAtMs: atMs });
    return Promise.resolve();
  }

  membershipsOf(userId: string): Promise<readonly PortfolioMember[]> {
    const found: PortfolioMember[] = [];
    for (const members of this.members.values()) {
      const member = members.get(userId);
      if (member) found.push(member);
    }
    return Promise.resolve(found);
  }

  portfolioMembers(portfolioId: string): Promise<readonly PortfolioMember[]> {
    return Promise.resolve([...(this.members.get(portfolioId)?.values() ?? [])]);
  }

  setPortfolioMember(member: PortfolioMember): Promise<void> {
    if (!this.users.has(member.userId)) return Promise.reject(new Error(`no user ${member.userId}`));
    let members = this.members.get(member.portfolioId);
    if (!members) this.members.set(member.portfolioId, (members = new Map<string, PortfolioMember>()));
    members.set(member.userId, { ...member });
    return Promise.resolve();
  }

  removePortfolioMember(portfolioId: string, userId: string): Promise<boolean> {
    return Promise.resolve(this.members.get(portfolioId)?.delete(userId) ?? false);
  }

  /** Forgets expired refresh tokens so the map stays bounded by live sessions. */
  private pruneRefresh(nowMs: number): void {
    if (this.refresh.size < 10_000) return;
    for (const [id, record] of this.refresh) {
      if (record.expiresAtMs < nowMs) {
        this.refresh.delete(id);
        this.refreshByHash.delete(record.tokenHash);
      }
    }
  }
}
