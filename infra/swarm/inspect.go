package swarm

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tet-bookstore/bookstore/infra/objective3/stack"
)

// Container is a running task's container on a node.
type Container struct {
	Service string
	Node    *Node
	ID, PID string
}

// Containers are the running containers of an app service, on every node
// whose dockerd answers.
func (r *Rehearsal) Containers(ctx context.Context, service string) []Container {
	var out []Container
	for _, n := range r.Cluster.Nodes {
		ids, err := n.Docker(ctx, "ps", "-q", "--filter", "label=com.docker.swarm.service.name="+StackName+"_"+service)
		if err != nil {
			continue
		}
		for _, id := range strings.Fields(ids) {
			pid, err := n.Docker(ctx, "inspect", "-f", "{{.State.Pid}}", id)
			if err == nil {
				out = append(out, Container{Service: service, Node: n, ID: id, PID: pid})
			}
		}
	}
	return out
}

// TaskIDs are the ids of the app services' tasks that should be running,
// sorted: a restarted or rescheduled task has a new id.
func (r *Rehearsal) TaskIDs(ctx context.Context) ([]string, error) {
	var ids []string
	for _, svc := range stack.AppServices {
		out, err := r.Cluster.Manager().Docker(ctx, "service", "ps", "-q", "--filter", "desired-state=running", StackName+"_"+svc)
		if err != nil {
			return nil, err
		}
		ids = append(ids, strings.Fields(out)...)
	}
	slices.Sort(ids)
	return ids, nil
}

// Get is GET path through the gateway: the status, or 0 and the error.
func (r *Rehearsal) Get(path string) (int, error) {
	client := http.Client{Timeout: 10 * time.Second}
	res, err := client.Get(r.GatewayURL + path)
	if err != nil {
		return 0, err
	}
	res.Body.Close()
	return res.StatusCode, nil
}
