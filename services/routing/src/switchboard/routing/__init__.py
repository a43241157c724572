"""Routing: the automatic contact distributor — which queue, and in time which agent."""
