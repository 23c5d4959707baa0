import { jwtVerify, SignJWT } from 'jose'

export const ACCESS_TOKEN_TTL_S = 15 * 60
const ISSUER = 'observatory'
const AUDIENCE = 'observatory-api'
const ALGORITHM = 'HS256'

/** Access tokens: HS256 JWTs with iss, aud, sub, iat, exp and `typ: "access"`; verification pins all of them. */
export function createAccessTokens(secret: string) {
  const key = new TextEncoder().encode(secret)
  return {
    sign(userId: string) {
      return new SignJWT({ typ: 'access' })
        .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
        .setSubject(userId)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(`${ACCESS_TOKEN_TTL_S}s`)
        .setJti(crypto.randomUUID())
        .sign(key)
    },
    /** The user id of a valid access token, or undefined for anything else (bad signature, alg, claims, expiry). */
    async verify(token: string): Promise<string | undefined> {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: [ALGORITHM],
          issuer: ISSUER,
          audience: AUDIENCE,
          requiredClaims: ['sub', 'exp', 'iat'],
        })
        return payload.typ === 'access' && typeof payload.sub === 'string' ? payload.sub : undefined
      } catch {
        return undefined // every failure is the same to the caller: not a valid access token
      }
    },
  }
}

/** Random secret with a readable prefix: `prefix_` + 256 bits, base64url. */
export const randomSecret = (prefix: string) =>
  `${prefix}_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')}`

/** Refresh tokens and API keys are high-entropy, so a fast SHA-256 is the right hash to store. */
export const sha256 = (value: string) => new Bun.CryptoHasher('sha256').update(value).digest('hex')
