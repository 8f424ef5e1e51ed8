package objective2

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/firewall"
	"github.com/tet-bookstore/bookstore/infra/privatenet"
	"github.com/tet-bookstore/bookstore/infra/sharedfs"
)

type sharedFiles = sharedfs.FileSystem

// newSharedFiles is the uploads share: one mount target per private subnet,
// so an instance in either zone mounts locally; everything written through
// the access point belongs to the bookstore user of the image.
func newSharedFiles(ctx *pulumi.Context, net *privatenet.Network, app *firewall.Group) (*sharedFiles, error) {
	return sharedfs.New(ctx, "uploads", &sharedfs.Args{
		VpcID:          net.VpcID,
		SubnetIDs:      stringInputs(net.PrivateSubnetIDs),
		ClientGroupIDs: []pulumi.IDInput{app.ID},
		Path:           "/bookstore-uploads",
		UID:            appUID,
		GID:            appGID,
		Permissions:    "0750",
	})
}
