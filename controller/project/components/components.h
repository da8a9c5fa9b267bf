// The component declarations, one per file in this directory; Components() (component.h) lists
// them in apply order. Internal to the registry: everything else loops over Components().
#pragma once

#include "controller/project/components/component.h"

namespace kubabase::project {

const ComponentDef& DatabaseComponent();  // database.cc: Postgres and its bootstrap
const ComponentDef& RestComponent();      // rest.cc: PostgREST
const ComponentDef& AuthComponent();      // auth.cc: GoTrue
const ComponentDef& StorageComponent();   // storage.cc: Storage API
const ComponentDef& MetaComponent();      // meta.cc: postgres-meta
const ComponentDef& RoutingComponent();   // routing.cc: the Ingresses on the project host

}  // namespace kubabase::project
