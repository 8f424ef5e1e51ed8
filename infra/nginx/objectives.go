package nginx

// ObjectiveSites describes the three objective subdomains the proxy fronts,
// given each one's upstream (HOST:PORT, empty when not deployed). Objective 1
// deploys it, the local rehearsal runs it: both render the same sites.
func ObjectiveSites(objective1, objective2, objective3 string) []Site {
	return []Site{
		{Name: "objective1", Title: "Objective 1 (monolith)", Upstream: objective1},
		{Name: "objective2", Title: "Objective 2 (load-balanced)", Upstream: objective2},
		{Name: "objective3", Title: "Objective 3 (Docker Swarm)", Upstream: objective3},
	}
}
