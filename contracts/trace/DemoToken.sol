// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title DemoToken
/// @notice A minimal ERC-20 for TRACE's chain indexer tests: `transfer` emits `Transfer`
///         between users, and `buy()` mints tokens for the ether sent, so its transaction's
///         only log on the token is a token transfer while the value paid is ether.
contract DemoToken {
    event Transfer(address indexed from, address indexed to, uint256 value);

    string public constant name = "Demo Token";
    string public constant symbol = "DEMO";
    uint8 public immutable decimals;
    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;

    constructor(uint8 decimals_) {
        decimals = decimals_;
    }

    function transfer(address to, uint256 value) external returns (bool) {
        require(balanceOf[msg.sender] >= value, "balance too low");
        balanceOf[msg.sender] -= value;
        balanceOf[to] += value;
        emit Transfer(msg.sender, to, value);
        return true;
    }

    /// Mints 1000 whole tokens per ether sent.
    function buy() external payable {
        uint256 amount = (msg.value * 1000 * 10 ** decimals) / 1 ether;
        totalSupply += amount;
        balanceOf[msg.sender] += amount;
        emit Transfer(address(0), msg.sender, amount);
    }
}
