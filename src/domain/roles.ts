/** The roles a user can have: admins run the farm, users submit work, nodes are workers. */
export const ROLES = ['admin', 'user', 'node'] as const;
export type Role = (typeof ROLES)[number];
