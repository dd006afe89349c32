/** Logical replication records every column of old post rows. */
import { defineMigration, setReplicaIdentity } from "pgtandem";

export default defineMigration({
  operations: [setReplicaIdentity("posts", { type: "FULL" })],
});
