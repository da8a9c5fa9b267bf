-- Argo CD health check for kubabase.io/Project (argocd-cm key
-- resource.customizations.health.kubabase.io_Project). Argo CD runs it with gopher-lua, which
-- speaks Lua 5.1: no goto, no integer division, no bitwise operators.
-- Reads only what the operator writes in status, following kstatus:
--   Progressing  no status yet, or status.observedGeneration behind metadata.generation
--   Degraded     Stalled=True (the spec cannot be satisfied as written), phase Failed, or
--                phase Degraded (was Ready, a component is not)
--   Suspended    spec.paused and the operator has scaled the project down (phase Paused)
--   Progressing  Reconciling=True, or Ready not yet True
--   Healthy      Ready=True for the current generation
local hs = {}

local function condition(conditions, condition_type)
  if conditions == nil then
    return nil
  end
  for _, c in ipairs(conditions) do
    if c.type == condition_type then
      return c
    end
  end
  return nil
end

local function message_of(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  return fallback
end

local status = obj.status
if status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the kubabase operator to report status"
  return hs
end

local generation = obj.metadata.generation
if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local conditions = status.conditions
local stalled = condition(conditions, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = message_of(stalled, "Stalled: " .. tostring(stalled.reason))
  return hs
end

local ready = condition(conditions, "Ready")
if status.phase == "Failed" or status.phase == "Degraded" then
  hs.status = "Degraded"
  hs.message = message_of(ready, "Phase " .. status.phase)
  return hs
end

local paused = obj.spec ~= nil and obj.spec.paused == true
if paused and status.phase == "Paused" then
  hs.status = "Suspended"
  hs.message = "Paused: every workload is scaled to zero; data and keys are kept"
  return hs
end

local reconciling = condition(conditions, "Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = message_of(reconciling, "Reconciling")
  return hs
end

if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = message_of(ready, "Ready")
  return hs
end

hs.status = "Progressing"
if paused then
  hs.message = "Pausing"
else
  hs.message = message_of(ready, "Waiting for the Ready condition")
end
return hs
