package token

// RevokedCount is how many revocations a holds, to check pruning.
func RevokedCount(a *Authenticator) int {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return len(a.revoked)
}
